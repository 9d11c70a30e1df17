// Package backchannel serves OpenID Connect Back-Channel Logout 1.0:
// POST {prefix}/backchannel-logout/{provider} with a logout_token, which
// the provider sends when a user's session there ends. A valid token ends
// the Gatehouse sessions that provider session started (its sid), or all
// the user's sessions of that provider (its sub), on every instance.
package backchannel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Limits on a logout request, which anyone may send.
const (
	// MaxBodyBytes bounds the form; a logout token is a few hundred bytes
	// to a few KiB.
	MaxBodyBytes = 64 << 10
	// BodyTimeout is how long the client may take to send it.
	BodyTimeout = 10 * time.Second
)

// Path is the family of the endpoint's paths under the prefix; the
// provider's name follows it.
const Path = "/backchannel-logout/"

// Options configures the endpoint.
type Options struct {
	// Verifiers are the providers whose logout tokens are accepted, by
	// name: the OpenID Connect providers.
	Verifiers map[string]provider.LogoutVerifier
	// Sessions are the sessions a logout ends.
	Sessions *session.Manager
	// Store keeps the tokens' jti for provider.LogoutTokenWindow, so that
	// each is used once across every instance.
	Store store.Store
	// KeyPrefix prefixes the store keys.
	KeyPrefix string
}

// Service is the back-channel logout endpoint, a kit.Feature.
type Service struct {
	o Options
}

// New returns the endpoint for o.
func New(o Options) *Service { return &Service{o: o} }

var _ kit.Feature = (*Service)(nil)

// Routes serves {prefix}/backchannel-logout/{provider}.
func (s *Service) Routes(k kit.Kit) []kit.Route {
	return []kit.Route{{Path: Path, Serve: func(w http.ResponseWriter, r *http.Request, name string) {
		s.serve(k, w, r, name)
	}}}
}

// serve answers one logout request: 404 for a provider that sends no
// logout tokens, 405 for anything but POST, 400 with an OAuth error
// (Back-Channel Logout 1.0 §2.8) for a request or token that is not
// valid — nothing changes then — and 200 once the sessions it names have
// ended (none may have).
func (s *Service) serve(k kit.Kit, w http.ResponseWriter, r *http.Request, name string) {
	v, ok := s.o.Verifiers[name] // "corp/x" or "" names no provider
	if !ok {
		k.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		k.MethodNotAllowed(w, http.MethodPost)
		return
	}
	log := k.Log(r).With(zap.String("provider", name))
	refuse := func(status int, why string, err error) {
		log.Warn("back-channel logout refused", zap.String("reason", why), zap.Error(err))
		if status == http.StatusRequestEntityTooLarge && r.ProtoMajor == 1 {
			w.Header().Set("Connection", "close")
		}
		k.JSON(w, status, map[string]string{"error": "invalid_request", "error_description": why})
	}

	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(BodyTimeout))
	if r.ContentLength > MaxBodyBytes {
		refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes), nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes), nil)
			return
		}
		refuse(http.StatusBadRequest, "the request body is not a form", err)
		return
	}
	tokens := r.PostForm["logout_token"]
	switch {
	case len(tokens) == 0 || tokens[0] == "":
		refuse(http.StatusBadRequest, "logout_token is missing (send it in an application/x-www-form-urlencoded body)", nil)
		return
	case len(tokens) > 1:
		refuse(http.StatusBadRequest, "logout_token is sent more than once", nil)
		return
	}

	c, err := v.VerifyLogoutToken(r.Context(), tokens[0])
	if err != nil {
		var pe *provider.Error
		if errors.As(err, &pe) && pe.Code == provider.ErrCodeInvalidLogoutToken {
			refuse(http.StatusBadRequest, "the logout token is not valid: "+pe.Err.Error(), nil)
			return
		}
		// The provider's keys could not be fetched: not the token's fault.
		log.Warn("back-channel logout not verified: the provider is not answering", zap.Error(err))
		w.Header().Set("Retry-After", "5")
		k.JSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable",
			"error_description": "the provider's signing keys could not be fetched"})
		return
	}

	jti := s.jtiKey(name, c.ID)
	fresh, err := s.o.Store.SetNX(r.Context(), jti, []byte{1}, provider.LogoutTokenWindow)
	if err != nil {
		log.Error("back-channel logout: recording the token's jti", zap.Error(err))
		k.StoreDown(w, r)
		return
	}
	if !fresh {
		refuse(http.StatusBadRequest, "the logout token was already used (its jti is not new)", nil)
		return
	}

	ended, err := s.end(r.Context(), name, c)
	if err != nil {
		// Let the provider (or an operator replaying it) try again.
		_ = s.o.Store.Delete(context.WithoutCancel(r.Context()), jti)
		log.Error("back-channel logout: ending the sessions", zap.Int("ended", len(ended)), zap.Error(err))
		k.StoreDown(w, r)
		return
	}
	users := make([]string, 0, len(ended))
	for _, e := range ended {
		users = append(users, e.UserID)
	}
	log.Info("back-channel logout", zap.Int("sessions_ended", len(ended)), zap.Strings("user_ids", users),
		zap.Bool("by_sid", c.Session != ""), zap.Bool("by_sub", c.Subject != ""))
	k.JSON(w, http.StatusOK, struct{}{}) // with Cache-Control: no-store
}

// end ends the sessions c names: those provider's session c.Session
// started (only the user c.Subject's when the token names both), or with
// no sid all the sessions of the user c.Subject signed in through
// provider.
func (s *Service) end(ctx context.Context, provider string, c *provider.LogoutClaims) ([]*session.Session, error) {
	userID := ""
	if c.Subject != "" {
		userID = provider + ":" + c.Subject
	}
	switch {
	case c.Session != "":
		return s.o.Sessions.EndIdPSessionOf(ctx, provider, c.Session, userID)
	case userID != "":
		return s.o.Sessions.EndAll(ctx, userID)
	}
	return nil, nil
}

// jtiKey is the store key that marks a provider's jti as used; the jti is
// hashed (bounded length, whatever the provider sends).
func (s *Service) jtiKey(provider, jti string) string {
	sum := sha256.Sum256([]byte(jti))
	return s.o.KeyPrefix + "bclogout:jti:" + provider + ":" + hex.EncodeToString(sum[:])
}
