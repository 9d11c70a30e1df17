package devidp

import (
	"net/http"
)

// Discovery returns the OpenID Provider metadata served at
// /.well-known/openid-configuration.
func (p *Provider) Discovery() map[string]any {
	return map[string]any{
		"issuer":                                         p.issuer,
		"authorization_endpoint":                         p.endpointURL(pathAuthorize),
		"token_endpoint":                                 p.endpointURL(pathToken),
		"userinfo_endpoint":                              p.endpointURL(pathUserinfo),
		"jwks_uri":                                       p.endpointURL(pathJWKS),
		"end_session_endpoint":                           p.endpointURL(pathLogout),
		"revocation_endpoint":                            p.endpointURL(pathRevoke),
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token"},
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{p.opts.SigningAlg},
		"scopes_supported":                               supportedScopes,
		"claims_supported":                               supportedClaims,
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported":     []string{"client_secret_basic", "client_secret_post", "none"},
		"code_challenge_methods_supported":               []string{"S256"},
		"prompt_values_supported":                        []string{"none", "login", "consent", "select_account"},
		"authorization_response_iss_parameter_supported": true,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
		"claims_parameter_supported":                     false,
		"backchannel_logout_supported":                   true,
		"backchannel_logout_session_supported":           true,
	}
}

// serveDiscovery serves the OpenID Provider metadata.
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	jsonOut.Write(w, http.StatusOK, p.Discovery())
}
