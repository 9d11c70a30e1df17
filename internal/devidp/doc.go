// Package devidp is a small but real OpenID Connect provider for local
// development and tests.
//
// It has two users. The Gatehouse demo runs it as a local identity provider
// so a new user can click through a sign-in with no credentials: its sign-in
// page lists a few demo users as buttons and accepts any typed username.
// Gatehouse's tests run it as the fake provider they authenticate against, so
// it is as strict as a real provider (exact redirect URIs, mandatory state
// and PKCE S256, single-use codes, rotating refresh tokens, signed ID tokens)
// and it is instrumentable: tests can skip the sign-in page
// ([Provider.SetAutoLogin]), tamper with ID tokens
// ([Provider.MutateIDToken], [Provider.SetSigner]), rotate keys
// ([Provider.RotateKeys]), count and inspect requests and make endpoints fail
// ([Provider.FailNext]).
//
// The endpoints, all under the issuer URL, are:
//
//	/                                  index page for people: discovery URL, users, clients
//	/.well-known/openid-configuration  discovery document
//	/jwks                              public signing keys
//	/authorize                         authorization endpoint and sign-in page
//	/token                             token endpoint (authorization_code, refresh_token)
//	/userinfo                          UserInfo endpoint
//	/revoke                            token revocation (RFC 7009)
//	/logout                            RP-initiated logout (end_session_endpoint)
//	/sessions/end                      ends a session from the index page (POST)
//
// The provider keeps everything in memory and has no sign-in cookie: every
// authorization request shows the sign-in page (or logs in the auto-login
// user), and every sign-in starts a session of its own, the sid of its ID
// tokens. When a session ends (RP-initiated logout with an id_token_hint,
// the index page, [Provider.EndSession]) the client's
// [Client].BackchannelLogoutURI, if any, gets a logout token (OpenID
// Connect Back-Channel Logout 1.0; in Ory Hydra's form with
// [Options].HydraLogoutTokens). It must never be exposed as a real
// identity provider.
package devidp
