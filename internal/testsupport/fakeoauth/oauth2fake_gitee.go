package fakeoauth

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

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
		route: o2Routes(map[string]o2Endpoint{
			"/oauth/authorize": o2Authorize, "/oauth/token": o2Token,
			"/api/v5/user": o2API, "/api/v5/emails": o2API,
		}),
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
		newAccessToken:  func() string { return authserver.RandomHex(32) },
		newRefreshToken: func() string { return authserver.RandomHex(64) },
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
