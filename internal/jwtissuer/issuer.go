package jwtissuer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/jwks"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// discoveryRetry is how long a failed discovery is not tried again.
const discoveryRetry = 30 * time.Second

// Issuer verifies the tokens of one trusted issuer.
type Issuer struct {
	cfg Config

	mu       sync.Mutex
	verifier *gooidc.IDTokenVerifier
	failedAt time.Time
	lastErr  error
}

// New returns the issuer of cfg; it makes no network call.
func New(cfg Config) (*Issuer, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &Issuer{cfg: cfg}, nil
}

// Name is the issuer's name.
func (i *Issuer) Name() string { return i.cfg.Name }

// verifierFor returns the token verifier, finding the keys by discovery
// the first time when no jwks_url is set.
func (i *Issuer) verifierFor(ctx context.Context) (*gooidc.IDTokenVerifier, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.verifier != nil {
		return i.verifier, nil
	}
	if !i.failedAt.IsZero() && time.Since(i.failedAt) < discoveryRetry {
		return nil, i.lastErr
	}
	jwksURL := i.cfg.JWKSURL
	if jwksURL == "" {
		// Discovery serves every request waiting for it: it does not end
		// with the one that started it.
		dctx, cancel := context.WithTimeout(gooidc.ClientContext(context.WithoutCancel(ctx), i.cfg.HTTPClient), i.cfg.Timeout)
		defer cancel()
		p, err := gooidc.NewProvider(dctx, i.cfg.Issuer)
		var meta struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err == nil {
			err = p.Claims(&meta)
		}
		if err == nil && meta.JWKSURI == "" {
			err = errors.New("the discovery document has no jwks_uri")
		}
		if err != nil {
			i.failedAt, i.lastErr = time.Now(), provider.Unavailable(fmt.Errorf("discovery at %s: %w", i.cfg.Issuer, err))
			return nil, i.lastErr
		}
		jwksURL = meta.JWKSURI
	}
	i.verifier = gooidc.NewVerifier(i.cfg.Issuer, jwks.New(i.cfg.HTTPClient, jwksURL, i.cfg.Algorithms), &gooidc.Config{
		SkipClientIDCheck:    true, // aud is checked against every configured audience below
		SupportedSigningAlgs: i.cfg.Algorithms,
	})
	return i.verifier, nil
}

// Verify checks raw (signature by one of the issuer's keys with an
// accepted algorithm, iss, aud, exp and nbf) and returns the identity its
// claims give, as a session that is never stored, with its expiry.
func (i *Issuer) Verify(ctx context.Context, raw string) (*session.Session, error) {
	v, err := i.verifierFor(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, i.cfg.Timeout)
	defer cancel()
	ctx, fetchErr := jwks.WatchFetch(ctx)
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		if ferr := fetchErr(); ferr != nil {
			// The token may be fine: the client should retry, not give up.
			return nil, provider.Unavailable(fmt.Errorf("fetching the issuer's keys: %w", ferr))
		}
		return nil, err
	}
	if !slices.ContainsFunc(tok.Audience, func(a string) bool { return slices.Contains(i.cfg.Audiences, a) }) {
		return nil, fmt.Errorf("the token's audience %q is not one this site accepts", tok.Audience)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("reading the claims: %w", err)
	}
	return i.identity(claims, tok.IssuedAt, tok.Expiry)
}

// identity maps claims to the session of a verified token.
func (i *Issuer) identity(claims map[string]any, iat, exp time.Time) (*session.Session, error) {
	var u identity.User
	for f, path := range i.cfg.Claims {
		switch f {
		case "groups", "repos":
			v, ok := lookup(claims, path)
			if !ok {
				continue
			}
			l, ok := list(v)
			if !ok {
				return nil, fmt.Errorf("claim %s (%s) is not a list of strings", path, f)
			}
			if f == "groups" {
				u.Groups = l
			} else {
				u.Repos = l
			}
		default:
			s, err := field(claims, f, path)
			if err != nil {
				return nil, err
			}
			switch f {
			case "id":
				u.UserID = s
			case "login":
				u.Login = s
			case "email":
				if verified, _ := claims["email_verified"].(bool); verified {
					u.Email = s
				}
			case "name":
				u.Name = s
			}
		}
	}
	if u.UserID == "" {
		return nil, fmt.Errorf("the token has no %s claim to identify it by", i.cfg.Claims["id"])
	}
	u.UserID = i.cfg.Name + ":" + u.UserID
	u.Provider = i.cfg.Name
	if u.Login == "" {
		u.Login = strings.TrimPrefix(u.UserID, i.cfg.Name+":")
	}
	s := &session.Session{User: u, CreatedAt: iat, ExpiresAt: exp}
	for _, name := range i.cfg.Extra {
		if v, ok := lookup(claims, name); ok {
			if x, ok := scalar(v); ok && x != "" && len(x) <= maxClaimLen && !strings.ContainsAny(x, "\r\n\x00") {
				s.Claims = append(s.Claims, name+"="+x)
			}
		}
	}
	return s, nil
}

// peekIssuer returns the iss of raw without verifying anything, to choose
// the issuer that verifies it; "" when raw is not a JWT.
func peekIssuer(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return ""
	}
	return c.Iss
}
