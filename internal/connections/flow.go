package connections

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/dghubble/oauth1"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
)

// pending is a link in progress, kept server-side: for OAuth 1.0a the
// request token's secret never leaves Gatehouse. Its Owner's Flow is the
// connection's name.
type pending struct {
	loginstate.Owner
	Redirect string `json:"rd"`
	Secret   string `json:"s,omitempty"` // OAuth 1.0a request token secret
	Verifier string `json:"v,omitempty"` // OAuth 2.0 PKCE verifier
	Callback string `json:"cb"`
}

func (s *Service) oauth1Config(c *Config, callback string) *oauth1.Config {
	cfg := oauth1.NewConfig(c.ConsumerKey, c.ConsumerSecret)
	cfg.CallbackURL = callback
	cfg.Endpoint = oauth1.Endpoint{RequestTokenURL: c.RequestTokenURL, AuthorizeURL: c.AuthorizeURL, AccessTokenURL: c.AccessTokenURL}
	cfg.HTTPClient = s.opts.HTTP
	return cfg
}

func (s *Service) oauth2Config(c *Config, callback string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: c.Scopes, RedirectURL: callback,
		Endpoint: oauth2.Endpoint{AuthURL: c.AuthURL, TokenURL: c.TokenURL, AuthStyle: c.AuthStyle},
	}
}

// Begin starts linking connection name for the user signed in on the
// browser holding binding, with the provider sending the browser back to
// callback and then on to redirect. It returns where to send the browser.
func (s *Service) Begin(ctx context.Context, name, userID, binding, callback, redirect string) (string, error) {
	c := s.conns[name]
	if c == nil {
		return "", ErrUnknown
	}
	p := pending{Owner: loginstate.Owner{Flow: name, UserID: userID}, Redirect: redirect, Callback: callback}
	switch c.Kind {
	case KindOAuth1:
		cfg := s.oauth1Config(c, callback)
		reqToken, reqSecret, err := cfg.RequestToken()
		if err != nil {
			return "", fmt.Errorf("%w: getting a request token: %v", ErrUnavailable, err)
		}
		p.Secret = reqSecret
		if err := s.pending.Put(ctx, reqToken, binding, &p); err != nil {
			return "", err
		}
		u, err := cfg.AuthorizationURL(reqToken)
		if err != nil {
			return "", fmt.Errorf("authorize URL: %w", err)
		}
		return u.String(), nil
	case KindOAuth2:
		state := loginstate.Random(32)
		p.Verifier = oauth2.GenerateVerifier()
		if err := s.pending.Put(ctx, state, binding, &p); err != nil {
			return "", err
		}
		return s.oauth2Config(c, callback).AuthCodeURL(state, oauth2.S256ChallengeOption(p.Verifier)), nil
	}
	return "", fmt.Errorf("connection %s is linked through Nango's Connect UI", name)
}

// takePending consumes the link in progress named by handle (the OAuth
// 1.0a request token or the OAuth 2.0 state) for its own browser and user
// only: of a replayed callback only the first gets it, and a callback from
// elsewhere leaves it in place.
func (s *Service) takePending(ctx context.Context, handle, name, userID, binding string) (*pending, error) {
	p := new(pending)
	if err := s.pending.Take(ctx, handle, binding, name, userID, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Finish completes linking from the provider's callback query q, for the
// user signed in on the browser holding binding, and returns where the
// browser goes next.
func (s *Service) Finish(ctx context.Context, name, userID, binding string, q url.Values) (string, error) {
	c := s.conns[name]
	if c == nil {
		return "", ErrUnknown
	}
	now := s.now().UTC()
	l := &Link{Name: name, Kind: c.Kind, LinkedAt: now, Issued: now}
	var p *pending
	var err error
	switch c.Kind {
	case KindOAuth1:
		reqToken := q.Get("oauth_token")
		if p, err = s.takePending(ctx, reqToken, name, userID, binding); err != nil {
			return "", err
		}
		verifier := q.Get("oauth_verifier")
		if verifier == "" {
			return "", ErrDenied
		}
		l.AccessToken, l.TokenSecret, err = s.oauth1Config(c, p.Callback).AccessToken(reqToken, p.Secret, verifier)
		if err != nil {
			return "", exchangeError("exchanging the verifier", err)
		}
	case KindOAuth2:
		if p, err = s.takePending(ctx, q.Get("state"), name, userID, binding); err != nil {
			return "", err
		}
		if q.Get("error") != "" || q.Get("code") == "" {
			return "", ErrDenied
		}
		ctx, cancel := context.WithTimeout(oauth2Ctx(ctx, s), 10*time.Second)
		defer cancel()
		t, err := s.oauth2Config(c, p.Callback).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.Verifier))
		if err != nil {
			return "", exchangeError("redeeming the code", err)
		}
		l.AccessToken, l.RefreshToken, l.Expiry = t.AccessToken, t.RefreshToken, t.Expiry
	default:
		return "", fmt.Errorf("connection %s is linked through Nango's Connect UI", name)
	}
	if err := s.put(ctx, userID, l); err != nil {
		return "", err
	}
	return p.Redirect, nil
}

func oauth2Ctx(ctx context.Context, s *Service) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, s.opts.HTTP)
}

// isInvalidGrant reports whether the token endpoint refused a refresh
// token for good.
func isInvalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && (re.ErrorCode == "invalid_grant" ||
		re.ErrorCode == "" && re.Response != nil && re.Response.StatusCode == 400 && strings.Contains(string(re.Body), "invalid_grant"))
}

// exchangeError classifies a failed token exchange: the provider refusing
// it (4xx: the request token or code expired or was used) is
// loginstate.ErrUnknownState;
// anything else is ErrUnavailable. The provider's answer is not kept: it
// could echo credentials.
func exchangeError(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
		return fmt.Errorf("%w: %s: refused (%s)", loginstate.ErrUnknownState, what, re.ErrorCode)
	}
	if msg := err.Error(); strings.HasPrefix(msg, "oauth1: invalid status 4") {
		return fmt.Errorf("%w: %s: refused (%s)", loginstate.ErrUnknownState, what, msg[len("oauth1: invalid status "):len("oauth1: invalid status 4xx")])
	}
	return fmt.Errorf("%w: %s failed", ErrUnavailable, what)
}
