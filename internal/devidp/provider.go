package devidp

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// Provider is an in-memory OpenID Connect provider. It implements
// [http.Handler], serving its endpoints under the issuer's path, and is safe
// for concurrent use, including its test hooks.
type Provider struct {
	issuer   string
	basePath string // issuer path, "" or "/prefix"
	opts     Options
	log      *slog.Logger
	keys     *keyring

	attackOnce sync.Once
	attackKey  *signingKey
	attackErr  error

	mu       sync.Mutex
	clients  map[string]Client
	users    []User         // sign-in page order
	userIdx  map[string]int // lower-cased username → index in users
	logins   map[string]*loginRequest
	codes    authserver.Codes[*grant]
	access   map[string]*accessToken
	refresh  authserver.RefreshTokens[*grant]
	failures authserver.Failures
	hooks    hooks
	counts   map[string]int
	lastAuth url.Values

	sessions   map[string]*Session // by id; see backchannel.go
	sessionSeq int
}

// New returns a provider configured by opts, with defaults applied to its
// zero fields. It fails when opts is invalid or no signing key can be made.
func New(opts Options) (*Provider, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("devidp: invalid options: %w", err)
	}
	keys, err := newKeyring(opts.SigningAlg, opts.Key)
	if err != nil {
		return nil, fmt.Errorf("devidp: signing key: %w", err)
	}
	u, err := url.Parse(opts.Issuer)
	if err != nil {
		return nil, fmt.Errorf("devidp: parsing issuer: %w", err)
	}
	p := &Provider{
		issuer:   opts.Issuer,
		basePath: strings.TrimSuffix(u.EscapedPath(), "/"),
		opts:     opts,
		log:      opts.Logger,
		keys:     keys,
		clients:  map[string]Client{},
		userIdx:  map[string]int{},
		logins:   map[string]*loginRequest{},
		access:   map[string]*accessToken{},
		counts:   map[string]int{},
	}
	p.opts.Clients, p.opts.Users, p.opts.Key = nil, nil, nil // live copies are in the maps
	p.hooks.hydraLogout = opts.HydraLogoutTokens
	for _, c := range opts.Clients {
		p.clients[c.ID] = c.clone()
	}
	for _, usr := range opts.Users {
		p.putUser(usr.normalize())
	}
	return p, nil
}

// Issuer returns the issuer identifier, which is also the base URL of the
// endpoints.
func (p *Provider) Issuer() string { return p.issuer }

// AddClient registers c, replacing any client with the same ID.
func (p *Provider) AddClient(c Client) error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("devidp: adding client: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients[c.ID] = c.clone()
	return nil
}

// AddUser adds u to the sign-in page, or replaces the user with the same
// username (case-insensitively). Tokens issued to a replaced user carry the
// new claims from their next refresh or UserInfo request on.
func (p *Provider) AddUser(u User) error {
	if err := u.validate(); err != nil {
		return fmt.Errorf("devidp: adding user: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.putUser(u.normalize())
	return nil
}

// User returns the registered user with the given username
// (case-insensitively), with its defaults filled in.
func (p *Provider) User(username string) (User, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, ok := p.lookupUser(username)
	if !ok {
		return User{}, false
	}
	return u.normalize(), true
}

// Users returns the registered users in sign-in page order.
func (p *Provider) Users() []User {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]User, len(p.users))
	for i, u := range p.users {
		out[i] = u.normalize()
	}
	return out
}

// putUser stores u; p.mu must be held (or p not yet shared).
func (p *Provider) putUser(u User) {
	key := strings.ToLower(u.Username)
	if i, ok := p.userIdx[key]; ok {
		p.users[i] = u
		return
	}
	p.userIdx[key] = len(p.users)
	p.users = append(p.users, u)
}

// lookupUser finds a registered user; p.mu must be held.
func (p *Provider) lookupUser(username string) (User, bool) {
	i, ok := p.userIdx[strings.ToLower(username)]
	if !ok {
		return User{}, false
	}
	return p.users[i], true
}

// resolveUser returns the registered user named username or, failing that,
// a made-up user; p.mu must be held.
func (p *Provider) resolveUser(username string) User {
	if u, ok := p.lookupUser(username); ok {
		return u.normalize()
	}
	return madeUpUser(username)
}

// client returns the registered client with the given ID; p.mu must be held.
func (p *Provider) client(id string) (Client, bool) {
	c, ok := p.clients[id]
	return c, ok
}

// endpointURL returns the absolute URL of the endpoint at path.
func (p *Provider) endpointURL(path string) string { return p.issuer + path }

// Endpoint paths, relative to the issuer.
const (
	pathDiscovery = "/.well-known/openid-configuration"
	pathJWKS      = "/jwks"
	pathAuthorize = "/authorize"
	pathToken     = "/token"
	pathUserinfo  = "/userinfo"
	pathRevoke    = "/revoke"
	pathLogout    = "/logout"
	pathEndSess   = "/sessions/end"
)

// endpointPaths maps endpoint names to their paths.
var endpointPaths = map[string]string{
	EndpointDiscovery: pathDiscovery,
	EndpointJWKS:      pathJWKS,
	EndpointAuthorize: pathAuthorize,
	EndpointToken:     pathToken,
	EndpointUserinfo:  pathUserinfo,
	EndpointRevoke:    pathRevoke,
	EndpointLogout:    pathLogout,
	EndpointEndSess:   pathEndSess,
}

// ServeHTTP routes r to the endpoint named by its path under the issuer.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		p.log.Debug("devidp: request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	}()
	sw.Header().Set("X-Content-Type-Options", "nosniff")

	rest, ok := strings.CutPrefix(r.URL.Path, p.basePath)
	if !ok {
		http.NotFound(sw, r)
		return
	}
	if rest == "" || rest == "/" {
		p.serveIndex(sw, r)
		return
	}
	var name string
	for n, path := range endpointPaths {
		if rest == path {
			name = n
		}
	}
	if name == "" {
		http.NotFound(sw, r)
		return
	}
	if status, fail := p.record(name, r); fail {
		p.log.Info("devidp: failing request as told by FailNext", "endpoint", name, "status", status)
		p.writeInjectedFailure(sw, name, status)
		return
	}
	p.handler(name)(sw, r)
}

// handler returns the handler of the endpoint name.
func (p *Provider) handler(name string) http.HandlerFunc {
	return map[string]http.HandlerFunc{
		EndpointDiscovery: p.serveDiscovery,
		EndpointJWKS:      p.serveJWKS,
		EndpointAuthorize: p.serveAuthorize,
		EndpointToken:     p.serveToken,
		EndpointUserinfo:  p.serveUserinfo,
		EndpointRevoke:    p.serveRevoke,
		EndpointLogout:    p.serveLogout,
		EndpointEndSess:   p.serveEndSession,
	}[name]
}

// statusWriter records the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// allowMethods reports whether r uses one of methods, answering 405 when not.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}
