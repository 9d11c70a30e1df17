// Command upstream-go is a tiny app to run behind Gatehouse. It trusts an
// identity only when the X-Auth-Jwt assertion verifies against Gatehouse's
// published keys: ES256 only, a kid found in {GATEHOUSE_URL}/.gatehouse/jwks.json,
// iss = GATEHOUSE_URL, aud = the request's Host, and an exp not passed.
// The X-Auth-* headers are conveniences; the identity it uses is the token's.
//
//	GATEHOUSE_URL=https://app.example.com go run ./examples/upstream-go
//
// Environment: GATEHOUSE_URL (the site's origin, the expected iss; required),
// GATEHOUSE_JWKS_URL (where to fetch the keys, default
// $GATEHOUSE_URL/.gatehouse/jwks.json), LISTEN (default 127.0.0.1:3000).
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func main() {
	issuer := strings.TrimRight(os.Getenv("GATEHOUSE_URL"), "/")
	if issuer == "" {
		log.Fatal("upstream-go: set GATEHOUSE_URL to the site's origin, e.g. https://app.example.com")
	}
	jwksURL := os.Getenv("GATEHOUSE_JWKS_URL")
	if jwksURL == "" {
		jwksURL = issuer + "/.gatehouse/jwks.json"
	}
	addr := os.Getenv("LISTEN")
	if addr == "" {
		addr = "127.0.0.1:3000"
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           NewApp(NewVerifier(issuer, jwksURL), log.Default()),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Printf("upstream-go: listening on %s, keys from %s", addr, jwksURL)
	log.Fatal(srv.ListenAndServe())
}

// Identity is what a verified assertion says about the user.
type Identity struct {
	UserID   string   `json:"user_id"`
	Login    string   `json:"login,omitempty"`
	Email    string   `json:"email,omitempty"`
	Name     string   `json:"name,omitempty"`
	Avatar   string   `json:"avatar,omitempty"`
	Provider string   `json:"provider,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	Repos    []string `json:"repos,omitempty"`
}

// NewApp returns the app's handler: every request needs a valid X-Auth-Jwt,
// otherwise 401.
func NewApp(v *Verifier, logger *log.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		id, err := v.Verify(r.Context(), r.Header.Get("X-Auth-Jwt"), r.Host)
		if err == nil {
			// A header that contradicts the token did not come from
			// Gatehouse: refuse rather than guess which one is right.
			if h := r.Header.Get("X-Auth-User-Id"); h != "" && h != id.UserID {
				err = errors.New("X-Auth-User-Id does not match the assertion")
			}
		}
		if err != nil {
			logger.Printf("upstream-go: refused %s %s: %v", r.Method, r.URL.Path, err)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthenticated"})
			return
		}
		headers := map[string]string{}
		for name, vals := range r.Header {
			if strings.HasPrefix(name, "X-Auth-") && name != "X-Auth-Jwt" {
				headers[name] = strings.Join(vals, ", ")
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"identity": id, "headers": headers})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Verifier checks Gatehouse's assertions. It keeps the key set in memory,
// fetches it again when a token names a kid it does not know (at most once
// per RefreshInterval, so that made-up kids cannot flood Gatehouse), and
// when it is older than MaxAge.
type Verifier struct {
	Issuer          string
	JWKSURL         string
	Client          *http.Client
	Leeway          time.Duration // clock skew allowed on exp and iat
	RefreshInterval time.Duration // least time between two fetches
	MaxAge          time.Duration // a key set older than this is fetched again
	Now             func() time.Time

	fetchMu sync.Mutex // one fetch at a time

	mu          sync.Mutex
	keys        map[string]*ecdsa.PublicKey
	fetchedAt   time.Time
	lastAttempt time.Time
}

// NewVerifier returns a Verifier with the defaults.
func NewVerifier(issuer, jwksURL string) *Verifier {
	return &Verifier{
		Issuer:          issuer,
		JWKSURL:         jwksURL,
		Client:          &http.Client{Timeout: 5 * time.Second},
		Leeway:          30 * time.Second,
		RefreshInterval: 30 * time.Second,
		MaxAge:          time.Hour,
		Now:             time.Now,
	}
}

var (
	errNoToken    = errors.New("no X-Auth-Jwt")
	errUnknownKid = errors.New("unknown kid")
)

// Verify checks raw and returns the identity it asserts for host.
func (v *Verifier) Verify(ctx context.Context, raw, host string) (*Identity, error) {
	if raw == "" {
		return nil, errNoToken
	}
	// Only ES256: HS256 (a key confusion), "none" and everything else are
	// refused before any key is looked at.
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, fmt.Errorf("malformed assertion: %w", err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID == "" {
		return nil, errors.New("assertion without a kid")
	}
	key, err := v.key(ctx, tok.Headers[0].KeyID)
	if err != nil {
		return nil, err
	}
	var std jwt.Claims
	var id Identity
	if err := tok.Claims(key, &std, &id); err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	if std.Expiry == nil || std.Subject == "" {
		return nil, errors.New("assertion without exp or sub")
	}
	err = std.ValidateWithLeeway(jwt.Expected{
		Issuer:      v.Issuer,
		AnyAudience: jwt.Audience{strings.ToLower(host)},
		Time:        v.Now(),
	}, v.Leeway)
	if err != nil {
		return nil, err
	}
	id.UserID = std.Subject
	return &id, nil
}

// key returns the public key named kid, fetching the key set when kid is
// unknown or the set is stale.
func (v *Verifier) key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	v.mu.Lock()
	k, ok := v.keys[kid]
	fresh := v.Now().Sub(v.fetchedAt) < v.MaxAge
	v.mu.Unlock()
	if ok && fresh {
		return k, nil
	}
	if err := v.refresh(ctx); err != nil && !ok {
		return nil, err
	}
	// A stale key that could not be refreshed is still used: Gatehouse
	// being briefly unreachable should not sign everyone out.
	v.mu.Lock()
	k, ok = v.keys[kid]
	v.mu.Unlock()
	if !ok {
		return nil, errUnknownKid
	}
	return k, nil
}

func (v *Verifier) refresh(ctx context.Context) error {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	v.mu.Lock()
	now := v.Now()
	if !v.lastAttempt.IsZero() && now.Sub(v.lastAttempt) < v.RefreshInterval {
		v.mu.Unlock()
		return errUnknownKid
	}
	v.lastAttempt = now
	v.mu.Unlock()

	keys, err := v.fetch(ctx)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", v.JWKSURL, err)
	}
	v.mu.Lock()
	v.keys, v.fetchedAt = keys, now
	v.mu.Unlock()
	return nil
}

// fetch downloads the key set and keeps the P-256 signing keys with a kid.
func (v *Verifier) fetch(ctx context.Context) (map[string]*ecdsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, err
	}
	keys := map[string]*ecdsa.PublicKey{}
	for _, k := range set.Keys {
		pub, ok := k.Key.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() || k.KeyID == "" ||
			(k.Algorithm != "" && k.Algorithm != string(jose.ES256)) || (k.Use != "" && k.Use != "sig") {
			continue
		}
		keys[k.KeyID] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("no ES256 key in the set")
	}
	return keys, nil
}
