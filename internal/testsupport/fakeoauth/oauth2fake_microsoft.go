package fakeoauth

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

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

// o2AADErrors are Microsoft's token errors (%s: the detail); the others
// (an unknown code or refresh token, a client or redirect mismatch) get
// o2AADOther.
var o2AADErrors = map[o2TokenError]o2AAD{
	o2ErrTwoAuthMethods:   {http.StatusBadRequest, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid."},
	o2ErrMissingParam:     {http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: '%s'."},
	o2ErrUnknownClient:    {http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory."},
	o2ErrBadSecret:        {http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'."},
	o2ErrUnsupportedGrant: {http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'."},
	o2ErrUsedCode:         {http.StatusBadRequest, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."},
	o2ErrExpiredCode:      {http.StatusBadRequest, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."},
	o2ErrPKCE:             {http.StatusBadRequest, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request."},
	o2ErrRevokedRefresh:   {http.StatusBadRequest, "invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password."},
}

// o2AADOther is Microsoft's answer to the token errors not in o2AADErrors.
var o2AADOther = o2AAD{http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."}

// o2AAD is one Microsoft identity platform error.
type o2AAD struct {
	status int
	code   string
	aadsts int
	msg    string
}

// o2AADError sends the token endpoint's error body.
func o2AADError(w http.ResponseWriter, status int, code string, aadsts int, msg string) {
	trace, corr := o2UUID(authserver.RandomHex(32)), o2UUID(authserver.RandomHex(32))
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
			"request-id": o2UUID(authserver.RandomHex(32)), "client-request-id": o2UUID(authserver.RandomHex(32))},
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
			return url.Values{"session_state": {o2UUID(authserver.RandomHex(32))}}
		},
		tokenError: func(w http.ResponseWriter, e o2TokenError, detail string) {
			a, ok := o2AADErrors[e]
			if !ok {
				a = o2AADOther
			}
			msg := a.msg
			if strings.Contains(msg, "%s") {
				msg = fmt.Sprintf(msg, detail)
			}
			o2AADError(w, a.status, a.code, a.aadsts, msg)
		},
		newAccessToken:  func() string { return "EwB" + authserver.RandomBase64(180) },
		newRefreshToken: func() string { return "M.C5" + authserver.RandomBase64(240) },
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
