// Package connections links other accounts to a signed-in user — the data
// connections an app reads, such as Garmin (OAuth 1.0a), Whoop or Fitbit
// (OAuth 2.0), or any Nango integration — and hands the app fresh access
// tokens, so the app never stores or refreshes third-party tokens itself.
//
// A link is stored sealed (AES-GCM) under its user; a link in progress is
// single-use, expires with login.TTL and is bound to the browser and the
// user that started it.
package connections

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/lock"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/nango"
	"github.com/gatehouse-auth/gatehouse/internal/sealed"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Kinds of connection.
const (
	KindOAuth1 = "oauth1"
	KindOAuth2 = "oauth2"
	KindNango  = "nango"
)

// retention is how long a link lives without being written.
const retention = 365 * 24 * time.Hour

// Errors of the Service.
var (
	// ErrUnknown: no connection of that name is configured.
	ErrUnknown = errors.New("no such connection")
	// ErrNotLinked: the user has not linked that account (or unlinked it).
	ErrNotLinked = errors.New("the account is not linked")
	// ErrRevoked: the provider refused the link's refresh token; the link
	// was removed and the user must link again.
	ErrRevoked = errors.New("the provider revoked the link; the user must link the account again")
	// ErrUnavailable: the provider could not be reached; try again later.
	ErrUnavailable = errors.New("the provider is unavailable")
	// ErrDenied: the user refused at the provider.
	ErrDenied = errors.New("the provider did not authorize the link")
)

// Config describes one connection.
type Config struct {
	// Name appears in URLs, X-Auth-Connections and the token endpoint.
	Name string
	// Kind is KindOAuth1, KindOAuth2 or KindNango.
	Kind string

	// OAuth 1.0a endpoints and consumer credentials.
	RequestTokenURL, AuthorizeURL, AccessTokenURL string
	ConsumerKey, ConsumerSecret                   string

	// OAuth 2.0 endpoints and client credentials. RevokeURL is optional
	// (RFC 7009).
	AuthURL, TokenURL, RevokeURL string
	ClientID, ClientSecret       string
	Scopes                       []string
	// AuthStyle is how the client authenticates at TokenURL (never
	// detected by trial, which would redeem a code or a rotating refresh
	// token twice).
	AuthStyle oauth2.AuthStyle

	// Integration is the Nango integration (unique key) of a nango
	// connection.
	Integration string
}

// AuthStyle maps the auth_style setting to x/oauth2's: "post" sends the
// client credentials in the form; anything else (the default, "basic") in
// an Authorization: Basic header.
func AuthStyle(setting string) oauth2.AuthStyle {
	if setting == "post" {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

// Link is a linked account as stored.
type Link struct {
	Name         string    `json:"name"`
	Kind         string    `json:"kind"`
	AccessToken  string    `json:"at,omitempty"`
	RefreshToken string    `json:"rt,omitempty"`
	TokenSecret  string    `json:"ts,omitempty"` // OAuth 1.0a
	Expiry       time.Time `json:"exp,omitzero"`
	Issued       time.Time `json:"iss,omitzero"`
	ConnectionID string    `json:"conn,omitempty"` // Nango
	LinkedAt     time.Time `json:"linked"`
	// RetryAt is when a refresh that failed for a transient reason may be
	// tried again.
	RetryAt time.Time `json:"retry,omitzero"`
}

// Token is what the upstream gets to call the provider.
type Token struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	// OAuth 1.0a: the token secret and the consumer key the app signs
	// requests with (with its consumer secret).
	TokenSecret string `json:"token_secret,omitempty"`
	ConsumerKey string `json:"consumer_key,omitempty"`
}

// Options configures a Service.
type Options struct {
	Connections []Config
	Store       store.Store
	Ring        *keys.Ring
	KeyPrefix   string
	// Nango is the client for nango connections; nil when none is
	// configured.
	Nango *nango.Client
	// NangoConnectURL is the Connect UI's base URL, where nango links are
	// made. Default: nango.DefaultConnectURL.
	NangoConnectURL string
	// Secret is what the upstream sends in SecretHeader to fetch
	// linked-account tokens; empty turns the token endpoint off.
	Secret []byte
	// HTTP makes the calls to providers. Default: 10 s timeout.
	HTTP   *http.Client
	Logger *zap.Logger
}

// Service links accounts. It is safe for concurrent use.
type Service struct {
	opts      Options
	conns     map[string]*Config
	names     []string
	refreshes lock.Flight      // token refreshes, once across instances
	records   sealed.Store     // links
	pending   loginstate.Flows // links in progress
	now       func() time.Time
}

// New checks the connections and returns a Service.
func New(opts Options) (*Service, error) {
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	s := &Service{opts: opts, conns: map[string]*Config{}, now: time.Now}
	s.refreshes = lock.Flight{Store: opts.Store, Prefix: opts.KeyPrefix + "lock:"}
	s.records = sealed.Store{Store: opts.Store, Ring: opts.Ring}
	s.pending = loginstate.NewFlows(opts.Store, opts.Ring, opts.KeyPrefix+"link-pending:")
	for i := range opts.Connections {
		c := &opts.Connections[i]
		if _, dup := s.conns[c.Name]; dup {
			return nil, fmt.Errorf("connection %q is configured twice", c.Name)
		}
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("connection %s: %w", c.Name, err)
		}
		if c.Kind == KindNango && opts.Nango == nil {
			return nil, fmt.Errorf("connection %s: type nango needs the nango block (its secret_key)", c.Name)
		}
		if c.AuthStyle == oauth2.AuthStyleAutoDetect {
			c.AuthStyle = oauth2.AuthStyleInHeader
		}
		s.conns[c.Name] = c
		s.names = append(s.names, c.Name)
	}
	slices.Sort(s.names)
	return s, nil
}

func (c *Config) validate() error {
	need := func(fields map[string]string) error {
		for name, v := range fields {
			if v == "" {
				return fmt.Errorf("%s is required for type %s", name, c.Kind)
			}
		}
		return nil
	}
	switch c.Kind {
	case KindOAuth1:
		return need(map[string]string{"request_token_url": c.RequestTokenURL, "authorize_url": c.AuthorizeURL,
			"access_token_url": c.AccessTokenURL, "consumer_key": c.ConsumerKey, "consumer_secret": c.ConsumerSecret})
	case KindOAuth2:
		return need(map[string]string{"auth_url": c.AuthURL, "token_url": c.TokenURL, "client_id": c.ClientID})
	case KindNango:
		return need(map[string]string{"integration": c.Integration})
	}
	return fmt.Errorf("type %q is not one of oauth1, oauth2, nango", c.Kind)
}

// Names lists the configured connections, sorted.
func (s *Service) Names() []string { return s.names }

// Kind returns the kind of the named connection, "" when unknown.
func (s *Service) Kind(name string) string {
	if c := s.conns[name]; c != nil {
		return c.Kind
	}
	return ""
}

func (s *Service) linkKey(userID, name string) string {
	return s.opts.KeyPrefix + "link:" + userID + ":" + name
}

// get reads a link; ErrNotLinked when there is none.
func (s *Service) get(ctx context.Context, userID, name string) (*Link, error) {
	key := s.linkKey(userID, name)
	l := new(Link)
	err := s.records.Get(ctx, key, 0, l)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotLinked
	}
	if err != nil {
		return nil, fmt.Errorf("the link: %w", err)
	}
	return l, nil
}

func (s *Service) put(ctx context.Context, userID string, l *Link) error {
	key := s.linkKey(userID, l.Name)
	if err := s.records.Put(ctx, key, l, retention); err != nil {
		return fmt.Errorf("saving the link: %w", err)
	}
	return nil
}

// Linked returns the names of the user's linked accounts, sorted.
func (s *Service) Linked(ctx context.Context, userID string) ([]string, error) {
	links, err := s.Links(ctx, userID)
	var names []string
	for _, l := range links {
		names = append(names, l.Name)
	}
	return names, err
}

// Links returns the user's linked accounts (without their tokens), sorted
// by name.
func (s *Service) Links(ctx context.Context, userID string) ([]Link, error) {
	var out []Link
	for _, name := range s.names {
		l, err := s.get(ctx, userID, name)
		if errors.Is(err, ErrNotLinked) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Link{Name: l.Name, Kind: l.Kind, LinkedAt: l.LinkedAt, Expiry: l.Expiry})
	}
	return out, nil
}

// Unlink removes the user's link and revokes it at the provider where it
// can. Unlinking an account that is not linked is not an error.
func (s *Service) Unlink(ctx context.Context, userID, name string) error {
	c := s.conns[name]
	if c == nil {
		return ErrUnknown
	}
	l, err := s.get(ctx, userID, name)
	if errors.Is(err, ErrNotLinked) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.opts.Store.Delete(ctx, s.linkKey(userID, name)); err != nil {
		return fmt.Errorf("deleting the link: %w", err)
	}
	if err := s.revoke(ctx, c, l); err != nil {
		s.opts.Logger.Warn("cannot revoke the unlinked account at the provider", zap.String("connection", name), zap.Error(err))
	}
	return nil
}
