package fakeoauth

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// ---- GitLab ----

func o2GitLab() *o2Shape {
	return &o2Shape{
		defaultUser:    OAuth2FakeUser{ID: "4242", Login: "alice", Email: "alice@example.com", Name: "Alice Liddell", EmailVerified: true},
		accessLifetime: 7200 * time.Second,
		codeLifetime:   10 * time.Minute,
		codeLength:     64,
		idTokens:       true,
		rotation:       o2RotateRevokeBoth,
		route: o2Routes(map[string]o2Endpoint{
			"/oauth/authorize": o2Authorize, "/oauth/token": o2Token, "/oauth/revoke": o2Revoke,
			"/oauth/discovery/keys": o2Keys, "/oauth/userinfo": o2API, "/api/v4/user": o2API,
		}),
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
		newAccessToken:  func() string { return authserver.RandomHex(64) },
		newRefreshToken: func() string { return authserver.RandomHex(64) },
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
