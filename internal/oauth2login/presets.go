package oauth2login

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// PresetParams are what a preset needs from the configuration.
type PresetParams struct {
	// ClientID and ClientSecret are the OAuth client credentials (for
	// Feishu and Lark: the App ID and App Secret).
	ClientID, ClientSecret string
	// Tenant is Microsoft's tenant: "common" (default), "organizations",
	// "consumers", or a tenant id or domain. Other kinds refuse it.
	Tenant string
	// BaseURL replaces the origin of every endpoint of the preset, keeping
	// its path under BaseURL's own path (GitLab self-managed, including
	// under a relative URL root; tests point it at a fake that serves all
	// the preset's paths on one origin).
	BaseURL string
	// Scopes are requested in addition to the preset's default scopes.
	Scopes []string
}

// preset is a known provider: its default endpoints (absolute URLs whose
// origin BaseURL replaces) and the rest of its Config.
type preset struct {
	build func(p PresetParams, endpoint func(string) string) Config
}

var presets = map[string]preset{
	"gitlab":    {build: gitlabPreset},
	"microsoft": {build: microsoftPreset},
	"gitee":     {build: giteePreset},
	"feishu":    {build: feishuPreset("https://accounts.feishu.cn", "https://open.feishu.cn")},
	"lark":      {build: feishuPreset("https://accounts.larksuite.com", "https://open.larksuite.com")},
}

// PresetNames returns the kinds Preset accepts, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for k := range presets {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

var tenantPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.\-]{0,253}$`)

// Preset returns the Config of a known provider (see PresetNames) named
// name (default: kind). New still validates it (e.g. the client id).
func Preset(kind, name string, p PresetParams) (Config, error) {
	ps, ok := presets[kind]
	if !ok {
		return Config{}, fmt.Errorf("unknown provider preset %q (known: %s)", kind, strings.Join(PresetNames(), ", "))
	}
	if p.Tenant != "" && kind != "microsoft" {
		return Config{}, fmt.Errorf("tenant is a microsoft setting, not a %s one", kind)
	}
	if kind == "microsoft" {
		if p.Tenant == "" {
			p.Tenant = "common"
		}
		if !tenantPattern.MatchString(p.Tenant) {
			return Config{}, fmt.Errorf("tenant %q is not a tenant id, a domain, common, organizations or consumers", p.Tenant)
		}
	}
	endpoint := func(u string) string { return u }
	if p.BaseURL != "" {
		base, err := url.Parse(p.BaseURL)
		if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" ||
			base.RawQuery != "" || base.Fragment != "" || base.User != nil {
			return Config{}, fmt.Errorf("base_url %q must be an absolute http(s) URL without query", p.BaseURL)
		}
		prefix := strings.TrimRight(base.Scheme+"://"+base.Host+base.EscapedPath(), "/")
		endpoint = func(u string) string {
			parsed, _ := url.Parse(u)
			return prefix + parsed.EscapedPath()
		}
	}
	cfg := ps.build(p, endpoint)
	if name == "" {
		name = kind
	}
	cfg.Name = name
	cfg.ClientID, cfg.ClientSecret = p.ClientID, p.ClientSecret
	for _, s := range p.Scopes {
		if !slices.Contains(cfg.Scopes, s) {
			cfg.Scopes = append(cfg.Scopes, s)
		}
	}
	return cfg, nil
}

// gitlabPreset: GitLab.com, or self-managed through BaseURL.
//
// Shapes, from GitLab's docs "OAuth 2.0 identity provider API"
// (doc/api/oauth2.md) and "GitLab as OpenID Connect identity provider"
// (doc/integration/openid_connect_provider.md):
//   - GET /oauth/authorize?client_id&redirect_uri&response_type=code&state
//     &scope&code_challenge&code_challenge_method=S256 (PKCE documented).
//   - POST /oauth/token client_id, client_secret, code,
//     grant_type=authorization_code, redirect_uri, code_verifier →
//     {"access_token","token_type":"bearer","expires_in":7200,
//     "refresh_token","created_at"} (plus "id_token" with scope openid).
//     grant_type=refresh_token "invalidates the existing access_token and
//     refresh_token" and sends new ones. Errors are Doorkeeper's RFC 6749
//     JSON ({"error":"invalid_grant","error_description":…}, HTTP 400).
//   - POST /oauth/revoke client_id, client_secret, token → 200 {}.
//   - GET /oauth/userinfo (scope openid): "sub" (the user ID, a string),
//     "name", "nickname" and "preferred_username" (the username), "email",
//     "email_verified" (boolean), "picture", "profile", "groups" (paths of
//     the user's groups).
//
// Email rule: the address is used only when email_verified is true.
func gitlabPreset(_ PresetParams, endpoint func(string) string) Config {
	return Config{
		AuthURL:     endpoint("https://gitlab.com/oauth/authorize"),
		TokenURL:    endpoint("https://gitlab.com/oauth/token"),
		UserinfoURL: endpoint("https://gitlab.com/oauth/userinfo"),
		RevokeURL:   endpoint("https://gitlab.com/oauth/revoke"),
		Scopes:      []string{"openid", "profile", "email"},
		Claims: Claims{ID: "sub", Login: "preferred_username", Email: "email", Name: "name",
			Avatar: "picture", Groups: "groups"},
		EmailVerified: "email_verified",
	}
}

// microsoftPreset: Microsoft Entra ID (work and school accounts) and
// personal Microsoft accounts, through the identity platform v2.0.
//
// Shapes, from the Microsoft identity platform docs
// (MicrosoftDocs/entra-docs, docs/identity-platform/):
//   - v2-oauth2-auth-code-flow.md: GET https://login.microsoftonline.com/
//     {tenant}/oauth2/v2.0/authorize?client_id&response_type=code
//     &redirect_uri&response_mode&scope&state&code_challenge
//     &code_challenge_method=S256, tenant common, organizations, consumers
//     or a tenant id; a refusal comes back as error=access_denied&
//     error_description=AADSTS…. POST …/{tenant}/oauth2/v2.0/token
//     client_id, code, redirect_uri, grant_type, code_verifier,
//     client_secret → {"token_type":"Bearer","scope","expires_in":3599,
//     "ext_expires_in","access_token","refresh_token" (with
//     offline_access),"id_token" (with openid)}; errors {"error",
//     "error_description":"AADSTS…","error_codes":[…],"timestamp",
//     "trace_id","correlation_id"} (invalid_grant for a bad or expired
//     code, verifier or refresh token). Refresh tokens "aren't revoked when
//     used", a new one comes with each refresh. There is no RFC 7009
//     revocation endpoint, so Revoke does nothing.
//   - userinfo.md: GET https://graph.microsoft.com/oidc/userinfo →
//     {"sub","name","family_name","given_name","picture","email"}: the
//     same values as the id_token, whose sub is pairwise (per application),
//     hence the stable Subject. The picture URL needs a Graph token, so it
//     is not used as the avatar.
//
// Email rule (the "nOAuth" issue): the email and preferred_username claims
// are mutable and not verified by Microsoft. The address is used only when
// the id_token carries the optional claim xms_edov ("email domain owner
// verified") set to true, which needs the optional claims email and
// xms_edov on the app registration (optional-claims-reference.md);
// otherwise it is never used. preferred_username (from the id_token, it is
// not in the userinfo) is only the display username; the Subject is sub.
func microsoftPreset(p PresetParams, endpoint func(string) string) Config {
	login := "https://login.microsoftonline.com/" + url.PathEscape(p.Tenant) + "/oauth2/v2.0/"
	return Config{
		AuthURL:       endpoint(login + "authorize"),
		TokenURL:      endpoint(login + "token"),
		UserinfoURL:   endpoint("https://graph.microsoft.com/oidc/userinfo"),
		Scopes:        []string{"openid", "profile", "email", "offline_access"},
		Claims:        Claims{ID: "sub", Login: "id_token.preferred_username", Email: "email", Name: "name"},
		EmailVerified: "id_token.xms_edov",
		IDTokenClaims: true,
	}
}

// giteePreset: Gitee (gitee.com).
//
// Shapes, from Gitee's OAuth document (https://gitee.com/api/v5/oauth_doc)
// and API v5 (https://gitee.com/api/v5/swagger), as used by the
// SocialiteProviders Gitee provider and JustAuth:
//   - GET https://gitee.com/oauth/authorize?client_id&redirect_uri
//     &response_type=code&scope&state.
//   - POST https://gitee.com/oauth/token grant_type=authorization_code,
//     code, client_id, redirect_uri, client_secret (the doc puts them in
//     the query string; Gitee runs Rails/Doorkeeper, which reads the body
//     too) → {"access_token","token_type":"bearer","expires_in":86400,
//     "refresh_token","scope","created_at"}; errors Doorkeeper's JSON with
//     HTTP 401, e.g. {"error":"invalid_grant","error_description":
//     "授权方式无效，或者登录回调地址无效、过期或已被撤销"}.
//     grant_type=refresh_token&refresh_token=… answers a new pair.
//   - The API takes the token as the access_token query parameter.
//     GET /api/v5/user → {"id": number,"login","name","avatar_url",
//     "email": the public profile address or null, …}. GET /api/v5/emails
//     (scope emails) → [{"email","state":"confirmed"|…,
//     "scope":["primary","committed"]}].
//
// Email rule: only the /api/v5/emails address whose state is "confirmed"
// and whose scope includes "primary"; the /api/v5/user email is never
// used. PKCE: Gitee documents none, and Doorkeeper without PKCE support
// refuses a code_verifier, so the preset does not send PKCE.
func giteePreset(_ PresetParams, endpoint func(string) string) Config {
	return Config{
		AuthURL:      endpoint("https://gitee.com/oauth/authorize"),
		TokenURL:     endpoint("https://gitee.com/oauth/token"),
		UserinfoURL:  endpoint("https://gitee.com/api/v5/user"),
		Scopes:       []string{"user_info", "emails"},
		Claims:       Claims{ID: "id", Login: "login", Name: "name", Avatar: "avatar_url"},
		TokenInQuery: "access_token",
		DisablePKCE:  true,
		VerifiedEmails: &EmailsEndpoint{
			URL:  endpoint("https://gitee.com/api/v5/emails"),
			Pick: giteePrimaryEmail,
		},
	}
}

// giteePrimaryEmail picks the confirmed primary address of GET
// /api/v5/emails.
func giteePrimaryEmail(doc any) string {
	list, _ := doc.([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		if m == nil || str(m["state"]) != "confirmed" {
			continue
		}
		scopes, _ := m["scope"].([]any)
		for _, s := range scopes {
			if s == "primary" {
				return str(m["email"])
			}
		}
	}
	return ""
}

// feishuPreset: Feishu (飞书, accounts.feishu.cn/open.feishu.cn) and Lark
// (its international edition, accounts.larksuite.com/open.larksuite.com,
// same paths).
//
// Shapes, from the Feishu Open Platform docs:
//   - "获取授权码" (authentication-management/access-token/
//     obtain-oauth-code, the web SSO login page): GET {accounts}/open-apis/
//     authen/v1/authorize?client_id (the App ID)&response_type=code
//     &redirect_uri&scope&state&code_challenge&code_challenge_method (S256
//     or plain); a refusal redirects with error=access_denied&state.
//   - "获取 user_access_token" and "刷新 user_access_token": POST {open}/
//     open-apis/authen/v2/oauth/token (RFC 6749; the doc's own
//     golang.org/x/oauth2 example posts the usual form) grant_type,
//     client_id, client_secret, code, redirect_uri, code_verifier →
//     {"code":0,"access_token","expires_in","refresh_token",
//     "refresh_token_expires_in","scope","token_type":"Bearer"}; errors
//     {"code":2xxxx,"error","error_description"}, HTTP 400 (500 and 503
//     for 20050 and 20072). A refresh token comes only with the
//     offline_access scope (add it to Scopes once the permission is
//     enabled for the app) and can be used once: 20026 invalid, 20037
//     expired, 20064 revoked.
//   - "获取用户信息": GET {open}/open-apis/authen/v1/user_info →
//     {"code":0,"msg":"success","data":{"name","en_name","avatar_url",
//     "avatar_thumb","avatar_middle","avatar_big","open_id","union_id",
//     "user_id","email","enterprise_email","mobile","tenant_key",
//     "employee_no"}}.
//
// The older passport.feishu.cn/suite/passport/oauth/{authorize,token,
// userinfo} endpoints are the historic version of this login and are not
// used; the current token endpoint takes client_id (the App ID) like any
// OAuth client, not the app_id of the v1 API.
//
// Email rule: Feishu does not say the address is verified (it is a
// directory field a tenant administrator sets), so it is never used.
// Subject: data.open_id (stable for the app); Login: data.user_id (unique
// within the tenant only, present when the app may read user IDs).
func feishuPreset(accounts, open string) func(PresetParams, func(string) string) Config {
	return func(_ PresetParams, endpoint func(string) string) Config {
		return Config{
			AuthURL:     endpoint(accounts + "/open-apis/authen/v1/authorize"),
			TokenURL:    endpoint(open + "/open-apis/authen/v2/oauth/token"),
			UserinfoURL: endpoint(open + "/open-apis/authen/v1/user_info"),
			// No Email claim: Feishu's address is never used (see above).
			Claims:            Claims{ID: "data.open_id", Login: "data.user_id", Name: "data.name", Avatar: "data.avatar_url"},
			ResponseCodeField: "code",
			InvalidGrantCodes: []int64{20026, 20037, 20064},
		}
	}
}
