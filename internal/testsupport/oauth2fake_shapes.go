package testsupport

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The per-provider behaviour of OAuth2Fake. Sources of the shapes:
//
//   - GitLab: docs "OAuth 2.0 identity provider API" (doc/api/oauth2.md:
//     /oauth/authorize, /oauth/token answering access_token, token_type,
//     expires_in 7200, refresh_token, created_at; a refresh "invalidates the
//     existing access_token and refresh_token"; /oauth/revoke answering 200
//     {}) and "GitLab as OpenID Connect identity provider"
//     (doc/integration/openid_connect_provider.md: the /oauth/userinfo
//     claims). Error bodies and texts are Doorkeeper's (the gem GitLab's
//     OAuth is built on), RFC 6749 JSON, 400 (401 for invalid_client).
//   - Microsoft: identity platform docs (MicrosoftDocs/entra-docs,
//     v2-oauth2-auth-code-flow.md: /{tenant}/oauth2/v2.0/authorize and
//     /token, the token answer token_type, scope, expires_in 3599,
//     ext_expires_in, access_token, refresh_token with offline_access,
//     id_token with openid; errors error, error_description "AADSTS…",
//     error_codes, timestamp, trace_id, correlation_id; refresh tokens are
//     not revoked when used; userinfo.md: Graph /oidc/userinfo answering
//     sub, name, family_name, given_name, picture, email;
//     optional-claims-reference.md: the xms_edov claim).
//   - Gitee: its OAuth doc (gitee.com/api/v5/oauth_doc) and API v5:
//     /oauth/authorize, /oauth/token answering access_token, token_type
//     "bearer", expires_in 86400, refresh_token, scope, created_at, errors
//     {"error":"invalid_grant","error_description":"授权方式无效，或者登录
//     回调地址无效、过期或已被撤销"} with HTTP 401; /api/v5/user and
//     /api/v5/emails ([{"email","state","scope":["primary",…]}]) with the
//     token in the access_token query parameter.
//   - Feishu/Lark: Open Platform docs "获取授权码" (accounts …/open-apis/
//     authen/v1/authorize; denial redirects with error=access_denied and
//     state), "获取 user_access_token" and "刷新 user_access_token" (…/
//     open-apis/authen/v2/oauth/token answering code 0, access_token,
//     expires_in, refresh_token and refresh_token_expires_in with
//     offline_access, scope, token_type; errors {"code","error",
//     "error_description"} with the documented numeric codes and HTTP
//     statuses; the refresh token is single use and the old access token
//     keeps one minute of grace) and "获取用户信息" (…/open-apis/authen/v1/
//     user_info answering {"code":0,"msg":"success","data":{…}}). The docs
//     do not list the "error" string of each numeric code: the fake uses
//     the RFC 6749 one that fits.

// o2Endpoint is what a path of the fake serves.
type o2Endpoint int

const (
	o2None o2Endpoint = iota
	o2Authorize
	o2Token
	o2Revoke
	o2Keys
	o2API
)

// o2Rotation is what a refresh does to the previous tokens.
type o2Rotation int

const (
	// o2RotateKeep: the old refresh token stays valid (Microsoft).
	o2RotateKeep o2Rotation = iota
	// o2RotateRevokeBoth: the old refresh and access tokens are revoked
	// (GitLab, Gitee: Doorkeeper).
	o2RotateRevokeBoth
	// o2RotateRevokeRefresh: the old refresh token is revoked, the old
	// access token keeps accessGrace (Feishu: one minute).
	o2RotateRevokeRefresh
)

// o2Shape is one provider's behaviour.
type o2Shape struct {
	defaultUser    OAuth2FakeUser
	accessLifetime time.Duration
	codeLifetime   time.Duration
	accessGrace    time.Duration
	codeLength     int
	idTokens       bool
	rotation       o2Rotation

	route               func(path string) (o2Endpoint, string)
	userinfoPOST        func(path string) bool
	failure             func(w http.ResponseWriter, r *http.Request, status int)
	notFound            func(w http.ResponseWriter, r *http.Request)
	unknownClientPage   func(clientID string) string
	denied              func() url.Values
	extraCallbackParams func() url.Values
	tokenError          func(w http.ResponseWriter, e o2TokenError, detail string)
	newAccessToken      func() string
	newRefreshToken     func() string
	refreshIssued       func(scope string) bool
	tokenAnswer         func(w http.ResponseWriter, t o2Issued)
	revokeForbidden     func(w http.ResponseWriter)
	accessTokenOf       func(r *http.Request) string
	unauthorized        func(w http.ResponseWriter, r *http.Request, s o2TokenState)
	api                 func(w http.ResponseWriter, r *http.Request, base string, g *o2Grant)
}

var o2Shapes = map[string]*o2Shape{
	"gitlab":    o2GitLab(),
	"microsoft": o2Microsoft(),
	"gitee":     o2Gitee(),
	"feishu":    o2Feishu(),
	"lark":      o2Feishu(),
}

func o2Always(string) bool { return true }
func o2NoParams() url.Values {
	return nil
}

// o2Doorkeeper are Doorkeeper's English error texts (GitLab).
var o2Doorkeeper = map[string]string{
	"invalid_client":         "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
	"invalid_grant":          "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
	"unsupported_grant_type": "The authorization grant type is not supported by the authorization server.",
	"invalid_request":        "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.",
	"access_denied":          "The resource owner or authorization server denied the request.",
}

// o2DoorkeeperError maps a refusal to Doorkeeper's RFC 6749 error.
func o2DoorkeeperError(e o2TokenError) string {
	switch e {
	case o2ErrMissingParam, o2ErrTwoAuthMethods:
		return "invalid_request"
	case o2ErrUnknownClient, o2ErrBadSecret:
		return "invalid_client"
	case o2ErrUnsupportedGrant:
		return "unsupported_grant_type"
	}
	return "invalid_grant"
}

// ---- GitLab ----

func o2GitLab() *o2Shape {
	return &o2Shape{
		defaultUser:    OAuth2FakeUser{ID: "4242", Login: "alice", Email: "alice@example.com", Name: "Alice Liddell", EmailVerified: true},
		accessLifetime: 7200 * time.Second,
		codeLifetime:   10 * time.Minute,
		codeLength:     64,
		idTokens:       true,
		rotation:       o2RotateRevokeBoth,
		route: func(path string) (o2Endpoint, string) {
			switch path {
			case "/oauth/authorize":
				return o2Authorize, ""
			case "/oauth/token":
				return o2Token, ""
			case "/oauth/revoke":
				return o2Revoke, ""
			case "/oauth/discovery/keys":
				return o2Keys, ""
			case "/oauth/userinfo", "/api/v4/user":
				return o2API, ""
			}
			return o2None, ""
		},
		userinfoPOST: func(path string) bool { return path == "/oauth/userinfo" },
		failure: func(w http.ResponseWriter, r *http.Request, status int) {
			if status >= 500 {
				o2Page(w, status, "Something went wrong (500)", "<p>We're sorry. Something went wrong on our end.</p>")
				return
			}
			o2JSON(w, status, map[string]string{"message": strconv.Itoa(status) + " " + http.StatusText(status)})
		},
		notFound: func(w http.ResponseWriter, r *http.Request) {
			o2JSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
		},
		unknownClientPage: func(string) string { return o2Doorkeeper["invalid_client"] },
		denied: func() url.Values {
			return url.Values{"error": {"access_denied"}, "error_description": {o2Doorkeeper["access_denied"]}}
		},
		extraCallbackParams: o2NoParams,
		tokenError: func(w http.ResponseWriter, e o2TokenError, _ string) {
			code := o2DoorkeeperError(e)
			status := http.StatusBadRequest
			if code == "invalid_client" {
				status = http.StatusUnauthorized
			}
			o2JSON(w, status, map[string]string{"error": code, "error_description": o2Doorkeeper[code]})
		},
		newAccessToken:  func() string { return o2Random(64) },
		newRefreshToken: func() string { return o2Random(64) },
		refreshIssued:   o2Always,
		tokenAnswer: func(w http.ResponseWriter, t o2Issued) {
			body := map[string]any{
				"access_token": t.access, "token_type": "Bearer", "expires_in": int64(t.lifetime / time.Second),
				"refresh_token": t.refresh, "scope": t.scope, "created_at": time.Now().Unix(),
			}
			if t.idToken != "" {
				body["id_token"] = t.idToken
			}
			o2JSON(w, http.StatusOK, body)
		},
		revokeForbidden: func(w http.ResponseWriter) {
			o2JSON(w, http.StatusForbidden, map[string]string{"error": "unauthorized_client",
				"error_description": "You are not authorized to revoke this token"})
		},
		accessTokenOf: o2Bearer,
		unauthorized: func(w http.ResponseWriter, r *http.Request, s o2TokenState) {
			desc := map[o2TokenState]string{o2TokenMissing: "The access token is invalid",
				o2TokenExpired: "The access token expired", o2TokenRevoked: "The access token was revoked"}[s]
			if r.URL.Path == "/api/v4/user" {
				o2JSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="Doorkeeper", error="invalid_token", error_description="`+desc+`"`)
			o2JSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": desc})
		},
		api: func(w http.ResponseWriter, r *http.Request, base string, g *o2Grant) {
			u := g.user
			insufficient := func(scopes string) {
				o2JSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope",
					"error_description": "The request requires higher privileges than provided by the access token.", "scope": scopes})
			}
			if r.URL.Path == "/api/v4/user" {
				if !o2HasScope(g.scope, "read_user") && !o2HasScope(g.scope, "api") && !o2HasScope(g.scope, "read_api") {
					insufficient("api read_api read_user")
					return
				}
				o2JSON(w, http.StatusOK, map[string]any{
					"id": o2Num(u.ID), "username": u.Login, "name": u.Name, "state": "active", "locked": false,
					"avatar_url": u.Avatar, "web_url": base + "/" + u.Login, "created_at": "2024-01-02T03:04:05.000Z",
					"bio": "", "public_email": nil, "bot": false, "email": u.Email, "confirmed_at": "2024-01-02T03:04:05.000Z",
					"two_factor_enabled": false, "external": false, "private_profile": false,
				})
				return
			}
			if !o2HasScope(g.scope, "openid") {
				insufficient("openid")
				return
			}
			groups := u.Groups
			if groups == nil {
				groups = []string{}
			}
			info := map[string]any{
				"sub": u.ID, "sub_legacy": o2Hash("legacy", u.ID, 64), "name": u.Name, "nickname": u.Login,
				"preferred_username": u.Login, "website": "", "profile": base + "/" + u.Login, "picture": u.Avatar,
				"groups": groups, "groups_direct": groups,
			}
			if o2HasScope(g.scope, "email") {
				info["email"], info["email_verified"] = u.Email, u.EmailVerified
			}
			o2JSON(w, http.StatusOK, info)
		},
	}
}

// ---- Microsoft ----

// o2MSATenant is the tenant id of personal Microsoft accounts
// (documented by Microsoft); o2OrgTenant is the fake's work tenant.
const (
	o2MSATenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
	o2OrgTenant = "6f3b2c1e-8d4a-4e7b-9c2d-0a1b2c3d4e5f"
)

var o2GUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// o2TenantID is the tid of a user signed in through the tenant of the path.
func o2TenantID(tenant string) string {
	switch {
	case o2GUID.MatchString(tenant):
		return strings.ToLower(tenant)
	case tenant == "consumers":
		return o2MSATenant
	}
	return o2OrgTenant
}

// o2AADError sends the token endpoint's error body.
func o2AADError(w http.ResponseWriter, status int, code string, aadsts int, msg string) {
	trace, corr := o2UUID(o2Random(32)), o2UUID(o2Random(32))
	ts := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	o2JSON(w, status, map[string]any{
		"error": code,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			aadsts, msg, trace, corr, ts),
		"error_codes": []int{aadsts}, "timestamp": ts, "trace_id": trace, "correlation_id": corr,
		"error_uri": "https://login.microsoftonline.com/error?code=" + strconv.Itoa(aadsts),
	})
}

// o2GraphError sends Microsoft Graph's error body.
func o2GraphError(w http.ResponseWriter, status int, code, msg string) {
	o2JSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]string{"date": time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id": o2UUID(o2Random(32)), "client-request-id": o2UUID(o2Random(32))},
	}})
}

func o2Microsoft() *o2Shape {
	return &o2Shape{
		defaultUser: OAuth2FakeUser{ID: "AAAAAAAAAAAAAAAAAAAAAEqxUzLcZRsI6HBbNqX5N2k", Login: "alice@contoso.example",
			Email: "alice@contoso.example", Name: "Alice Liddell"},
		accessLifetime: 3599 * time.Second,
		codeLifetime:   10 * time.Minute,
		codeLength:     96,
		idTokens:       true,
		rotation:       o2RotateKeep,
		route: func(path string) (o2Endpoint, string) {
			switch path {
			case "/oidc/userinfo", "/v1.0/me":
				return o2API, ""
			}
			parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 2)
			if len(parts) != 2 || parts[0] == "" {
				return o2None, ""
			}
			switch parts[1] {
			case "oauth2/v2.0/authorize":
				return o2Authorize, parts[0]
			case "oauth2/v2.0/token":
				return o2Token, parts[0]
			case "discovery/v2.0/keys":
				return o2Keys, parts[0]
			}
			return o2None, ""
		},
		userinfoPOST: func(path string) bool { return path == "/oidc/userinfo" },
		failure: func(w http.ResponseWriter, r *http.Request, status int) {
			if strings.HasSuffix(r.URL.Path, "/token") {
				o2AADError(w, status, "temporarily_unavailable", 90033,
					"A transient error has occurred. Please try again.")
				return
			}
			o2GraphError(w, status, "serviceNotAvailable", "The service is temporarily unavailable.")
		},
		notFound: func(w http.ResponseWriter, r *http.Request) {
			o2GraphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource not found.")
		},
		unknownClientPage: func(id string) string {
			return "AADSTS700016: Application with identifier '" + id + "' was not found in the directory."
		},
		denied: func() url.Values {
			return url.Values{"error": {"access_denied"},
				"error_description": {"AADSTS65004: User declined to consent to access the app."}}
		},
		extraCallbackParams: func() url.Values {
			return url.Values{"session_state": {o2UUID(o2Random(32))}}
		},
		tokenError: func(w http.ResponseWriter, e o2TokenError, detail string) {
			switch e {
			case o2ErrTwoAuthMethods:
				o2AADError(w, http.StatusBadRequest, "invalid_request", 9002313,
					"Invalid request. Request is malformed or invalid.")
			case o2ErrMissingParam:
				o2AADError(w, http.StatusBadRequest, "invalid_request", 900144,
					"The request body must contain the following parameter: '"+detail+"'.")
			case o2ErrUnknownClient:
				o2AADError(w, http.StatusBadRequest, "unauthorized_client", 700016,
					"Application with identifier '"+detail+"' was not found in the directory.")
			case o2ErrBadSecret:
				o2AADError(w, http.StatusUnauthorized, "invalid_client", 7000215,
					"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+detail+"'.")
			case o2ErrUnsupportedGrant:
				o2AADError(w, http.StatusBadRequest, "unsupported_grant_type", 70003,
					"The app requested an unsupported grant type '"+detail+"'.")
			case o2ErrUsedCode:
				o2AADError(w, http.StatusBadRequest, "invalid_grant", 54005,
					"OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
			case o2ErrExpiredCode:
				o2AADError(w, http.StatusBadRequest, "invalid_grant", 70008,
					"The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
			case o2ErrPKCE:
				o2AADError(w, http.StatusBadRequest, "invalid_grant", 501481,
					"The Code_Verifier does not match the code_challenge supplied in the authorization request.")
			case o2ErrRevokedRefresh:
				o2AADError(w, http.StatusBadRequest, "invalid_grant", 50173,
					"The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.")
			default: // unknown code or refresh token, client or redirect mismatch
				o2AADError(w, http.StatusBadRequest, "invalid_grant", 9002313,
					"Invalid request. Request is malformed or invalid.")
			}
		},
		newAccessToken:  func() string { return "EwB" + o2RandomB64(180) },
		newRefreshToken: func() string { return "M.C5" + o2RandomB64(240) },
		refreshIssued:   func(scope string) bool { return o2HasScope(scope, "offline_access") },
		tokenAnswer: func(w http.ResponseWriter, t o2Issued) {
			secs := int64(t.lifetime / time.Second)
			body := map[string]any{
				"token_type": "Bearer", "scope": t.scope, "expires_in": secs, "ext_expires_in": secs,
				"access_token": t.access,
			}
			if t.refresh != "" {
				body["refresh_token"] = t.refresh
			}
			if t.idToken != "" {
				body["id_token"] = t.idToken
			}
			o2JSON(w, http.StatusOK, body)
		},
		revokeForbidden: func(w http.ResponseWriter) { o2GraphError(w, http.StatusNotFound, "NotFound", "Not found.") },
		accessTokenOf:   o2Bearer,
		unauthorized: func(w http.ResponseWriter, r *http.Request, s o2TokenState) {
			msg := "Access token validation failure. Invalid audience."
			if s == o2TokenExpired || s == o2TokenRevoked {
				msg = "Lifetime validation failed, the token is expired."
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
			o2GraphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		},
		api: func(w http.ResponseWriter, r *http.Request, base string, g *o2Grant) {
			u := g.user
			given, family := u.Name, ""
			if i := strings.LastIndex(u.Name, " "); i > 0 {
				given, family = u.Name[:i], u.Name[i+1:]
			}
			if r.URL.Path == "/v1.0/me" {
				o2JSON(w, http.StatusOK, map[string]any{
					"@odata.context": base + "/v1.0/$metadata#users/$entity", "businessPhones": []string{},
					"displayName": u.Name, "givenName": given, "jobTitle": nil, "mail": u.Email, "mobilePhone": nil,
					"officeLocation": nil, "preferredLanguage": nil, "surname": family,
					"userPrincipalName": u.Login, "id": o2UUID(o2Hash("oid", u.ID, 32)),
				})
				return
			}
			info := map[string]any{"sub": u.ID, "name": u.Name, "family_name": family, "given_name": given,
				"picture": base + "/v1.0/me/photo/$value"}
			if o2HasScope(g.scope, "email") && u.Email != "" {
				info["email"] = u.Email
			}
			o2JSON(w, http.StatusOK, info)
		},
	}
}

// ---- Gitee ----

// o2GiteeInvalidGrant is Gitee's (Doorkeeper zh-CN) invalid_grant text.
const o2GiteeInvalidGrant = "授权方式无效，或者登录回调地址无效、过期或已被撤销"

func o2Gitee() *o2Shape {
	return &o2Shape{
		defaultUser:    OAuth2FakeUser{ID: "5294558", Login: "alice", Email: "alice@example.com", Name: "Alice", EmailVerified: true},
		accessLifetime: 86400 * time.Second,
		codeLifetime:   10 * time.Minute,
		codeLength:     64,
		rotation:       o2RotateRevokeBoth,
		route: func(path string) (o2Endpoint, string) {
			switch path {
			case "/oauth/authorize":
				return o2Authorize, ""
			case "/oauth/token":
				return o2Token, ""
			case "/api/v5/user", "/api/v5/emails":
				return o2API, ""
			}
			return o2None, ""
		},
		userinfoPOST: func(string) bool { return false },
		failure: func(w http.ResponseWriter, r *http.Request, status int) {
			if status >= 500 {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(status)
				fmt.Fprintf(w, "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
					status, http.StatusText(status), status, http.StatusText(status))
				return
			}
			o2JSON(w, status, map[string]string{"message": strconv.Itoa(status) + " " + http.StatusText(status)})
		},
		notFound: func(w http.ResponseWriter, r *http.Request) {
			o2JSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		},
		unknownClientPage: func(string) string { return "应用不存在或已被删除" },
		denied: func() url.Values {
			return url.Values{"error": {"access_denied"}, "error_description": {o2Doorkeeper["access_denied"]}}
		},
		extraCallbackParams: o2NoParams,
		tokenError: func(w http.ResponseWriter, e o2TokenError, _ string) {
			switch o2DoorkeeperError(e) {
			case "invalid_client":
				o2JSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client",
					"error_description": "由于未知客户端，不包含客户端身份验证或不支持的身份验证方法，客户端身份验证失败。"})
			case "invalid_grant":
				o2JSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_grant", "error_description": o2GiteeInvalidGrant})
			case "unsupported_grant_type":
				o2JSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "授权服务器不支持此授权类型。"})
			default:
				o2JSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "请求缺少必要参数，或参数值、格式不正确。"})
			}
		},
		newAccessToken:  func() string { return o2Random(32) },
		newRefreshToken: func() string { return o2Random(64) },
		refreshIssued:   o2Always,
		tokenAnswer: func(w http.ResponseWriter, t o2Issued) {
			o2JSON(w, http.StatusOK, map[string]any{
				"access_token": t.access, "token_type": "bearer", "expires_in": int64(t.lifetime / time.Second),
				"refresh_token": t.refresh, "scope": t.scope, "created_at": time.Now().Unix(),
			})
		},
		revokeForbidden: func(w http.ResponseWriter) { o2JSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"}) },
		accessTokenOf:   func(r *http.Request) string { return r.URL.Query().Get("access_token") },
		unauthorized: func(w http.ResponseWriter, r *http.Request, s o2TokenState) {
			msg := map[o2TokenState]string{o2TokenMissing: "401 Unauthorized: Access token does not exist",
				o2TokenExpired: "401 Unauthorized: Access token is expired", o2TokenRevoked: "401 Unauthorized: Access token is revoked"}[s]
			o2JSON(w, http.StatusUnauthorized, map[string]string{"message": msg})
		},
		api: func(w http.ResponseWriter, r *http.Request, base string, g *o2Grant) {
			u := g.user
			if r.URL.Path == "/api/v5/emails" {
				if !o2HasScope(g.scope, "emails") {
					o2JSON(w, http.StatusForbidden, map[string]string{"message": "403 Forbidden: Insufficient scope"})
					return
				}
				list := []map[string]any{}
				if u.Email != "" {
					state := "unconfirmed"
					if u.EmailVerified {
						state = "confirmed"
					}
					list = append(list, map[string]any{"email": u.Email, "state": state, "scope": []string{"primary", "committed"}})
				}
				// Gitee's no-reply commit address: confirmed, never primary.
				list = append(list, map[string]any{"email": u.ID + "+" + u.Login + "@user.noreply.gitee.com",
					"state": "confirmed", "scope": []string{"committed"}})
				o2JSON(w, http.StatusOK, list)
				return
			}
			api := base + "/api/v5/users/" + u.Login
			var email any
			if u.Email != "" {
				email = u.Email // the public profile address: not verified
			}
			o2JSON(w, http.StatusOK, map[string]any{
				"id": o2Num(u.ID), "login": u.Login, "name": u.Name, "avatar_url": u.Avatar, "url": api,
				"html_url": base + "/" + u.Login, "remark": "", "followers_url": api + "/followers",
				"following_url": api + "/following_url{/other_user}", "gists_url": api + "/gists{/gist_id}",
				"starred_url": api + "/starred{/owner}{/repo}", "subscriptions_url": api + "/subscriptions",
				"organizations_url": api + "/orgs", "repos_url": api + "/repos", "events_url": api + "/events{/privacy}",
				"received_events_url": api + "/received_events", "type": "User", "blog": nil, "weibo": nil, "bio": "",
				"public_repos": 0, "public_gists": 0, "followers": 0, "following": 0, "stared": 0, "watched": 0,
				"created_at": "2019-09-09T23:14:04+08:00", "updated_at": "2024-01-19T09:41:53+08:00", "email": email,
			})
		},
	}
}

// ---- Feishu / Lark ----

// o2FeishuErrors are the documented token endpoint codes (HTTP 400).
var o2FeishuErrors = map[o2TokenError]struct {
	code        int
	err, detail string
}{
	o2ErrMissingParam:     {20001, "invalid_request", "The request is missing a required parameter."},
	o2ErrBadSecret:        {20002, "invalid_client", "The client secret is invalid."},
	o2ErrUnknownCode:      {20003, "invalid_grant", "The authorization code is not found. Please note that an authorization code can only be used once."},
	o2ErrExpiredCode:      {20004, "invalid_grant", "The authorization code has expired."},
	o2ErrClientMismatch:   {20024, "invalid_grant", "The provided authorization code or refresh token does not match the provided client ID."},
	o2ErrUnknownRefresh:   {20026, "invalid_grant", "The refresh token passed is invalid. Please check the value."},
	o2ErrUnsupportedGrant: {20036, "unsupported_grant_type", "The specified grant_type is not supported."},
	o2ErrUnknownClient:    {20048, "invalid_client", "The specified app does not exist."},
	o2ErrPKCE:             {20049, "invalid_grant", "PKCE code challenge failed."},
	o2ErrRevokedRefresh:   {20064, "invalid_grant", "The refresh token has been revoked. Please note that a refresh token can only be used once."},
	o2ErrUsedCode:         {20065, "invalid_grant", "The authorization code has been used. Please note that an authorization code can only be used once."},
	o2ErrRedirectMismatch: {20071, "invalid_grant", "The provided redirect URI does not match the one used during authorization."},
	o2ErrTwoAuthMethods:   {20070, "invalid_client", "Multiple authentication methods were provided. Please only use one to proceed."},
}

func o2Feishu() *o2Shape {
	return &o2Shape{
		defaultUser: OAuth2FakeUser{ID: "ou_caecc734c2e3328a62489fe0648c4b98779515d3", Login: "5d9bdxxx",
			Email: "alice@example.com", Name: "Alice"},
		accessLifetime: 7200 * time.Second,
		codeLifetime:   5 * time.Minute,
		accessGrace:    time.Minute,
		codeLength:     64,
		rotation:       o2RotateRevokeRefresh,
		route: func(path string) (o2Endpoint, string) {
			switch path {
			case "/open-apis/authen/v1/authorize":
				return o2Authorize, ""
			case "/open-apis/authen/v2/oauth/token":
				return o2Token, ""
			case "/open-apis/authen/v1/user_info":
				return o2API, ""
			}
			return o2None, ""
		},
		userinfoPOST: func(string) bool { return false },
		failure: func(w http.ResponseWriter, r *http.Request, status int) {
			if status == http.StatusServiceUnavailable {
				o2JSON(w, status, map[string]any{"code": 20072, "error": "temporarily_unavailable",
					"error_description": "The server is temporarily unavailable. Please retry your request."})
				return
			}
			o2JSON(w, status, map[string]any{"code": 20050, "error": "server_error",
				"error_description": "An unexpected server error occurred. Please retry your request."})
		},
		notFound: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("404 page not found"))
		},
		unknownClientPage:   func(string) string { return "The specified app does not exist." },
		denied:              func() url.Values { return url.Values{"error": {"access_denied"}} },
		extraCallbackParams: o2NoParams,
		tokenError: func(w http.ResponseWriter, e o2TokenError, _ string) {
			fe := o2FeishuErrors[e]
			o2JSON(w, http.StatusBadRequest, map[string]any{"code": fe.code, "error": fe.err, "error_description": fe.detail})
		},
		newAccessToken:  func() string { return "eyJhbGciOiJFUzI1NiIs" + o2RandomB64(300) },
		newRefreshToken: func() string { return "eyJhbGciOiJFUzI1NiIs" + o2RandomB64(300) },
		refreshIssued:   func(scope string) bool { return o2HasScope(scope, "offline_access") },
		tokenAnswer: func(w http.ResponseWriter, t o2Issued) {
			body := map[string]any{"code": 0, "access_token": t.access, "expires_in": int64(t.lifetime / time.Second),
				"scope": t.scope, "token_type": "Bearer"}
			if t.refresh != "" {
				body["refresh_token"], body["refresh_token_expires_in"] = t.refresh, 604800
			}
			o2JSON(w, http.StatusOK, body)
		},
		revokeForbidden: func(w http.ResponseWriter) { o2JSON(w, http.StatusNotFound, map[string]string{}) },
		accessTokenOf:   o2Bearer,
		unauthorized: func(w http.ResponseWriter, r *http.Request, s o2TokenState) {
			// Feishu's common error codes; the HTTP status is the fake's choice.
			if s == o2TokenExpired {
				o2JSON(w, http.StatusUnauthorized, map[string]any{"code": 99991677, "msg": "Authentication token expired."})
				return
			}
			o2JSON(w, http.StatusUnauthorized, map[string]any{"code": 99991668,
				"msg": "Invalid access token for authorization. Please make a request with token attached."})
		},
		api: func(w http.ResponseWriter, r *http.Request, base string, g *o2Grant) {
			u := g.user
			o2JSON(w, http.StatusOK, map[string]any{"code": 0, "msg": "success", "data": map[string]any{
				"name": u.Name, "en_name": u.Name, "avatar_url": u.Avatar, "avatar_thumb": u.Avatar,
				"avatar_middle": u.Avatar, "avatar_big": u.Avatar, "open_id": u.ID,
				"union_id": "on_" + o2Hash("union", u.ID, 32), "email": u.Email, "enterprise_email": "",
				"user_id": u.Login, "mobile": "", "tenant_key": "736588c92lxf175d", "employee_no": "",
			}})
		},
	}
}

// ---- id_tokens ----

// idToken signs an id_token (RS256) for gitlab and microsoft.
func (f *OAuth2Fake) idToken(base, clientID, tenant, nonce, scope string, u OAuth2FakeUser) string {
	now := time.Now()
	claims := map[string]any{"sub": u.ID, "aud": clientID, "iat": now.Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	switch f.kind {
	case "gitlab":
		claims["iss"] = base
		claims["exp"] = now.Add(2 * time.Minute).Unix()
		claims["auth_time"] = now.Unix()
		claims["sub_legacy"] = o2Hash("legacy", u.ID, 64)
		if o2HasScope(scope, "email") {
			claims["email"], claims["email_verified"] = u.Email, u.EmailVerified
		}
	case "microsoft":
		tid := o2TenantID(tenant)
		claims["ver"] = "2.0"
		claims["iss"] = base + "/" + tid + "/v2.0"
		claims["nbf"] = now.Unix()
		claims["exp"] = now.Add(time.Hour).Unix()
		claims["tid"] = tid
		claims["oid"] = o2UUID(o2Hash("oid", u.ID, 32))
		if o2HasScope(scope, "profile") {
			claims["name"], claims["preferred_username"] = u.Name, u.Login
		}
		if o2HasScope(scope, "email") && u.Email != "" {
			claims["email"] = u.Email
			// The optional claim xms_edov, as when the app registration
			// asks for it: true only for a verified domain owner.
			claims["xms_edov"] = u.EmailVerified
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: f.key, KeyID: f.keyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic("testsupport: id_token signer: " + err.Error())
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		panic("testsupport: signing the id_token: " + err.Error())
	}
	return raw
}

// serveKeys serves the JWKS of the id_token key.
func (f *OAuth2Fake) serveKeys(w http.ResponseWriter) {
	if f.key == nil {
		o2JSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
		return
	}
	o2JSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: f.key.Public(), KeyID: f.keyID, Algorithm: string(jose.RS256), Use: "sig",
	}}})
}

// ---- helpers ----

// o2Hash derives a stable hex string of n characters from parts.
func o2Hash(parts ...any) string {
	n := parts[len(parts)-1].(int)
	h := sha256.New()
	for _, p := range parts[:len(parts)-1] {
		fmt.Fprint(h, p, "\x00")
	}
	s := hex.EncodeToString(h.Sum(nil))
	for len(s) < n {
		s += s
	}
	return s[:n]
}

// o2UUID formats 32 hex characters as a UUID.
func o2UUID(h string) string {
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// o2Num sends a numeric id as a JSON number (a non-numeric one as a
// string).
func o2Num(id string) any {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return n
	}
	return id
}
