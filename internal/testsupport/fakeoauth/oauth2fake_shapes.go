package fakeoauth

import (
	"net/http"
	"net/url"
	"time"
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

// o2Routes is the route of a kind without tenants: exact paths.
func o2Routes(paths map[string]o2Endpoint) func(string) (o2Endpoint, string) {
	return func(path string) (o2Endpoint, string) { return paths[path], "" }
}
