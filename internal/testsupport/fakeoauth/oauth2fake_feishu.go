package fakeoauth

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

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
		route: o2Routes(map[string]o2Endpoint{
			"/open-apis/authen/v1/authorize": o2Authorize, "/open-apis/authen/v2/oauth/token": o2Token,
			"/open-apis/authen/v1/user_info": o2API,
		}),
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
		newAccessToken:  func() string { return "eyJhbGciOiJFUzI1NiIs" + authserver.RandomBase64(300) },
		newRefreshToken: func() string { return "eyJhbGciOiJFUzI1NiIs" + authserver.RandomBase64(300) },
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
