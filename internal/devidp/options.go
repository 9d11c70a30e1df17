package devidp

import (
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Signing algorithms accepted in [Options].SigningAlg.
const (
	// RS256 is RSASSA-PKCS1-v1_5 with SHA-256 over a 2048-bit RSA key.
	RS256 = "RS256"
	// ES256 is ECDSA with SHA-256 over a P-256 key.
	ES256 = "ES256"
)

// Defaults applied by [New] when the corresponding [Options] field is zero.
const (
	// DefaultCodeTTL is how long an authorization code can be redeemed.
	DefaultCodeTTL = time.Minute
	// DefaultTokenTTL is the lifetime of access tokens and ID tokens.
	DefaultTokenTTL = time.Hour
	// DefaultRefreshTTL is the lifetime of a refresh token.
	DefaultRefreshTTL = 24 * time.Hour
)

// SignInTTL is how long a sign-in page can be submitted after it was shown.
const SignInTTL = 10 * time.Minute

// Client is a registered OAuth 2.0 client (relying party).
type Client struct {
	// ID is the client_id. Required and unique.
	ID string
	// Secret is the client secret. An empty Secret makes a public client,
	// which authenticates with its client_id alone; PKCE is required for
	// every client anyway.
	Secret string
	// RedirectURIs are the registered redirect URIs; authorization requests
	// must use one of them exactly (no prefix or port wildcards). At least
	// one is required. Their origins also bound where /logout may redirect.
	RedirectURIs []string
	// Name is shown on the sign-in page ("Sign in to Name"). Default: ID.
	Name string
	// BackchannelLogoutURI, when set, receives a logout token (OpenID
	// Connect Back-Channel Logout 1.0) whenever a session in which a user
	// signed in to this client ends: at the end-session endpoint, or
	// through [Provider.EndSession]. An absolute http(s) URL without a
	// fragment. Default: none, no back-channel logout.
	BackchannelLogoutURI string
}

// Options configures a [Provider].
type Options struct {
	// Issuer is the issuer identifier and the base URL of every endpoint,
	// e.g. "http://127.0.0.1:9000". Required by [New] (filled in by [Listen]
	// when empty). It must be an absolute http or https URL with no query,
	// fragment or trailing slash; it may have a path, under which the
	// endpoints are then served.
	Issuer string

	// Clients are the registered clients. More can be added with
	// [Provider.AddClient]. Default: none.
	Clients []Client

	// Users are the users shown on the sign-in page, in order. Default
	// (when nil): [DefaultUsers], alice, bob, and eve whose email is
	// unverified. An empty non-nil slice lists nobody. Any other username
	// typed on the sign-in page signs in as a made-up user.
	Users []User

	// SigningAlg is the ID token signing algorithm, RS256 or ES256.
	// Default: RS256.
	SigningAlg string

	// Key is the initial signing key: an *rsa.PrivateKey for RS256 or a P-256
	// *ecdsa.PrivateKey for ES256. Default: a freshly generated key. Tests can
	// share one key to avoid generating an RSA key per provider.
	Key crypto.Signer

	// CodeTTL is how long an authorization code can be redeemed.
	// Default: DefaultCodeTTL (1 minute).
	CodeTTL time.Duration
	// TokenTTL is the lifetime of access tokens and ID tokens.
	// Default: DefaultTokenTTL (1 hour).
	TokenTTL time.Duration
	// RefreshTTL is the lifetime of each refresh token.
	// Default: DefaultRefreshTTL (24 hours).
	RefreshTTL time.Duration
	// RefreshOnlyOffline issues a refresh token only when the grant
	// includes the offline_access scope, as Ory Hydra does. Default: off (a
	// refresh token with every grant).
	RefreshOnlyOffline bool

	// HydraLogoutTokens sends back-channel logout tokens as Ory Hydra
	// does: JOSE header typ JWT, and only the claims iss, aud (a list),
	// iat, jti, events and sid — no sub, no exp. Default: the form of
	// Back-Channel Logout 1.0 with its 2023 errata, typ logout+jwt with
	// sub and exp too. [Provider.SetHydraLogoutTokens] changes it later.
	HydraLogoutTokens bool

	// Now is the provider's clock. Default: time.Now. Tests can move it to
	// expire codes and tokens without sleeping.
	Now func() time.Time

	// Logger receives a Debug line per request and Info lines for every
	// sign-in and every rejected request with the reason. Default: discard.
	Logger *slog.Logger
}

// withDefaults returns a copy of o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.SigningAlg == "" {
		o.SigningAlg = RS256
	}
	if o.Users == nil {
		o.Users = DefaultUsers()
	}
	if o.CodeTTL == 0 {
		o.CodeTTL = DefaultCodeTTL
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.RefreshTTL == 0 {
		o.RefreshTTL = DefaultRefreshTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// validate reports the first problem with o, which has had its defaults
// applied.
func (o Options) validate() error {
	if err := validateIssuer(o.Issuer); err != nil {
		return err
	}
	if o.SigningAlg != RS256 && o.SigningAlg != ES256 {
		return fmt.Errorf("signing algorithm %q is not supported (use %s or %s)", o.SigningAlg, RS256, ES256)
	}
	for name, d := range map[string]time.Duration{"CodeTTL": o.CodeTTL, "TokenTTL": o.TokenTTL, "RefreshTTL": o.RefreshTTL} {
		if d < 0 {
			return fmt.Errorf("%s is negative (%v)", name, d)
		}
	}
	seen := map[string]bool{}
	for _, c := range o.Clients {
		if err := c.validate(); err != nil {
			return err
		}
		if seen[c.ID] {
			return fmt.Errorf("client %q is registered twice", c.ID)
		}
		seen[c.ID] = true
	}
	names := map[string]bool{}
	for _, u := range o.Users {
		if err := u.validate(); err != nil {
			return err
		}
		key := strings.ToLower(u.Username)
		if names[key] {
			return fmt.Errorf("user %q is listed twice (usernames are case-insensitive)", u.Username)
		}
		names[key] = true
	}
	return nil
}

func validateIssuer(issuer string) error {
	if issuer == "" {
		return errors.New("issuer is required")
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return fmt.Errorf("issuer %q: %w", issuer, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("issuer %q must be an http or https URL", issuer)
	case u.Host == "":
		return fmt.Errorf("issuer %q has no host", issuer)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(issuer, "?") || strings.HasSuffix(issuer, "#"):
		return fmt.Errorf("issuer %q must not have a query or fragment", issuer)
	case strings.HasSuffix(issuer, "/"):
		return fmt.Errorf("issuer %q must not end with a slash", issuer)
	case u.User != nil:
		return fmt.Errorf("issuer %q must not contain credentials", issuer)
	}
	return nil
}

func (c Client) validate() error {
	if c.ID == "" {
		return errors.New("client with an empty ID")
	}
	if len(c.RedirectURIs) == 0 {
		return fmt.Errorf("client %q has no redirect URIs", c.ID)
	}
	for _, r := range c.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil {
			return fmt.Errorf("client %q: redirect URI %q: %w", c.ID, r, err)
		}
		if !u.IsAbs() || u.Host == "" {
			return fmt.Errorf("client %q: redirect URI %q must be an absolute URL", c.ID, r)
		}
		if u.Fragment != "" || strings.Contains(r, "#") {
			return fmt.Errorf("client %q: redirect URI %q must not have a fragment", c.ID, r)
		}
	}
	if b := c.BackchannelLogoutURI; b != "" {
		u, err := url.Parse(b)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || strings.Contains(b, "#") {
			return fmt.Errorf("client %q: backchannel logout URI %q must be an absolute http(s) URL without a fragment", c.ID, b)
		}
	}
	return nil
}

// displayName is the name shown on the sign-in page.
func (c Client) displayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// public reports whether c is a public client (no secret).
func (c Client) public() bool { return c.Secret == "" }

// clone returns a deep copy of c.
func (c Client) clone() Client {
	c.RedirectURIs = append([]string(nil), c.RedirectURIs...)
	return c
}
