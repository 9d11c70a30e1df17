package fakenango

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
)

// Defaults and constants of the fake Nango (section A and B of
// shared/reference/external-apis.md).
const (
	// NangoDefaultSecretKey is the API key of NangoOptions.SecretKey.
	NangoDefaultSecretKey = "nango-secret-key"
	// NangoDefaultWebhookKey is the webhook signing key of
	// NangoOptions.WebhookKey.
	NangoDefaultWebhookKey = "nango-webhook-key"
	// NangoConnectSessionTTL is how long a connect session token is valid
	// (CONNECT_SESSION_TTL_MS).
	NangoConnectSessionTTL = 30 * time.Minute
	// NangoRefreshMargin is how close to expiry a token is refreshed
	// before GET /connections/{id} or a proxied call (REFRESH_MARGIN_MS).
	NangoRefreshMargin = 15 * time.Minute
	// NangoRefreshCooldown is how long after a failed refresh Nango answers
	// connection_refresh_backoff (424) instead of trying again.
	NangoRefreshCooldown = 30 * time.Second
	// NangoWebhookUserAgent is the User-Agent of webhook deliveries.
	NangoWebhookUserAgent = "nango/0.69.0 (fake)"
	// NangoWebhookAttempts is how many times a webhook is tried in all.
	NangoWebhookAttempts = 3
	// NangoWebhookTimeout is the timeout of one delivery attempt.
	NangoWebhookTimeout = 20 * time.Second
	// NangoGitHubWebhookSecret is the secret the GitHub App webhooks that
	// SendForward pretends GitHub sent to Nango were signed with: their
	// X-Hub-Signature-256 is forwarded but, as with the real Nango, does
	// not match the forwarded body.
	NangoGitHubWebhookSecret = "nango-github-app-webhook-secret"
)

// nangoDefaultGitHubScopes are the scopes of a "github" integration whose
// Scopes are nil.
var nangoDefaultGitHubScopes = []string{"read:user", "user:email", "read:org"}

// NangoIntegration is an integration (a provider config) of the fake
// Nango.
type NangoIntegration struct {
	// Provider is "github" (an OAuth App: the identity) or
	// "github-app-oauth" (a GitHub App: repositories).
	Provider string
	// ClientID is the fake GitHub client (an OAuth App for github, a
	// GitHub App for github-app-oauth) whose tokens the connections hold.
	ClientID string
	// Scopes are the OAuth scopes requested (OAuth Apps only). nil for a
	// "github" integration means read:user, user:email, read:org.
	Scopes []string
}

// NangoOptions configure NewNango.
type NangoOptions struct {
	// SecretKey is the API key Gatehouse must send as Authorization:
	// Bearer (default NangoDefaultSecretKey).
	SecretKey string
	// WebhookKey is the webhook signing key (default
	// NangoDefaultWebhookKey).
	WebhookKey string
	// GitHub is the fake GitHub that mints the connections' tokens and
	// that the proxy forwards to (required).
	GitHub *fakegithub.GitHub
	// Integrations are the integrations by provider config key (unique
	// key); required.
	Integrations map[string]NangoIntegration
	// RetryDelay is the wait before the first webhook retry; the second
	// waits twice as long (real Nango: 3 s then 6 s). Default 3 s.
	RetryDelay time.Duration
	// Environment is the environment name sent in auth webhooks (default
	// "dev").
	Environment string
}

// NangoConnectResult is what Connect (and the Connect UI's connect event)
// reports.
type NangoConnectResult struct {
	ConnectionID string
	// IsPending is true for a github-app-oauth connection whose
	// installation is not granted yet (org approval pending).
	IsPending bool
}

// NangoConnectError is the error of Connect; Type is the errorType the
// Connect UI posts in its error event.
type NangoConnectError struct {
	Type, Message string
}

func (e *NangoConnectError) Error() string { return "fake Nango connect: " + e.Type + ": " + e.Message }

// NangoConnection is a connection as tests see it (a copy).
type NangoConnection struct {
	ID          string // the connection_id (a UUID)
	Integration string // provider config key
	// EndUserID is the effective end user: tags["end_user_id"], else the
	// (deprecated) end_user.id, else "".
	EndUserID string
	Tags      map[string]string
	Pending   bool
	Login     string // the GitHub login that authorized it
	// InstallationID is the GitHub App installation of an installed
	// github-app-oauth connection, else 0.
	InstallationID int64
	// WebhookURLOverride is the connection's webhook_url_override ("" for
	// none).
	WebhookURLOverride string
}

// NangoSyncTrigger is one POST /sync/trigger call received.
type NangoSyncTrigger struct {
	Integration  string
	ConnectionID string // "" for all connections of the integration
	Syncs        []string
}

// NangoEndUser is the (deprecated) end_user of a connect session.
type NangoEndUser struct {
	ID, Email, DisplayName  string
	Tags                    map[string]string
	OrganizationID          string
	OrganizationDisplayName string
}

// NangoSessionView is a connect session that was created.
type NangoSessionView struct {
	Token string
	// Tags are the session's tags (explicit tags merged over those derived
	// from end_user and organization); nil when there were neither.
	Tags map[string]string
	// EndUser is nil when the session was created without end_user.
	EndUser             *NangoEndUser
	AllowedIntegrations []string // nil: all integrations
	WebhookURLOverride  string
	// ReconnectConnectionID is set for POST /connect/sessions/reconnect.
	ReconnectConnectionID string
	ExpiresAt             time.Time
}

// nangoRequest is one API request received.
type nangoRequest struct{ method, path string }

// Nango is a fake Nango Cloud on 127.0.0.1: the REST API at URL (standing
// for https://api.nango.dev), the Connect UI at ConnectURL (standing for
// https://connect.nango.dev) and a webhook sender. It follows sections 0,
// A and B of shared/reference/external-apis.md: errors are
// {"error":{"code","message"|"errors"}}, validation is strict, the
// github-app-oauth credentials split (installation token in credentials,
// user token in connection_config.userCredentials), proxy response header
// filtering, and webhooks with sorted compact bodies signed with both
// X-Nango-Hmac-Sha256 and X-Nango-Signature, delivered asynchronously with
// retries. Tokens are minted by the fake GitHub, and Nango's clock is the
// fake GitHub's (GitHub.Advance moves both). Its methods are safe for
// concurrent use.
type Nango struct {
	// URL is the API base, e.g. http://127.0.0.1:PORT.
	URL string
	// ConnectURL is the Connect UI origin (a separate server).
	ConnectURL string

	api, ui      *httptest.Server
	gh           *fakegithub.GitHub
	secretKey    string
	env          string
	retryDelay   time.Duration
	integrations map[string]NangoIntegration
	ghCli        *http.Client // to the fake GitHub
	hookCli      *http.Client // webhook deliveries
	ctx          context.Context
	cancel       context.CancelFunc
	wg           sync.WaitGroup

	mu         sync.Mutex
	webhookURL string
	webhookKey string
	login      string
	nextNumID  int64
	sessions   []*nangoSession
	byToken    map[string]*nangoSession
	conns      []*nangoConn
	byConnID   map[string]*nangoConn // live connections
	triggers   []NangoSyncTrigger
	requests   []nangoRequest
	deliveries []*NangoDelivery
	chains     map[string]chan struct{} // per connection: done of the last queued delivery
	dropped    int                      // webhooks not sent for lack of a URL
}

// NewNango starts a fake Nango. It panics on a missing GitHub or
// integrations, or an integration whose client the fake GitHub does not
// know. Close it when done.
func NewNango(opts NangoOptions) *Nango {
	if opts.GitHub == nil {
		panic("fakenango: NewNango needs the fake GitHub")
	}
	if len(opts.Integrations) == 0 {
		panic("fakenango: NewNango needs integrations")
	}
	n := &Nango{
		gh:           opts.GitHub,
		secretKey:    opts.SecretKey,
		env:          opts.Environment,
		retryDelay:   opts.RetryDelay,
		integrations: map[string]NangoIntegration{},
		webhookKey:   opts.WebhookKey,
		nextNumID:    1,
		byToken:      map[string]*nangoSession{},
		byConnID:     map[string]*nangoConn{},
		chains:       map[string]chan struct{}{},
	}
	if n.secretKey == "" {
		n.secretKey = NangoDefaultSecretKey
	}
	if n.webhookKey == "" {
		n.webhookKey = NangoDefaultWebhookKey
	}
	if n.env == "" {
		n.env = "dev"
	}
	if n.retryDelay <= 0 {
		n.retryDelay = 3 * time.Second
	}
	for key, in := range opts.Integrations {
		if in.Provider != "github" && in.Provider != "github-app-oauth" {
			panic(fmt.Sprintf("fakenango: Nango integration %q: unsupported provider %q", key, in.Provider))
		}
		_, appID, ok := opts.GitHub.LookupClient(in.ClientID)
		if !ok {
			panic(fmt.Sprintf("fakenango: Nango integration %q: the fake GitHub has no client %q", key, in.ClientID))
		}
		if in.Provider == "github-app-oauth" && appID == 0 {
			panic(fmt.Sprintf("fakenango: Nango integration %q: client %q is not a GitHub App", key, in.ClientID))
		}
		if in.Provider == "github" && in.Scopes == nil {
			in.Scopes = nangoDefaultGitHubScopes
		}
		in.Scopes = slices.Clone(in.Scopes)
		n.integrations[key] = in
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	n.ghCli = &http.Client{Timeout: 10 * time.Second, CheckRedirect: noRedirect,
		Transport: http.DefaultTransport.(*http.Transport).Clone()}
	n.hookCli = &http.Client{CheckRedirect: noRedirect, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	n.ui = httptest.NewServer(http.HandlerFunc(n.serveConnectUI))
	n.ConnectURL = n.ui.URL
	n.api = httptest.NewServer(http.HandlerFunc(n.serveAPI))
	n.URL = n.api.URL
	return n
}

// Close stops the servers and abandons webhooks not delivered yet.
func (n *Nango) Close() {
	n.cancel()
	n.api.Close()
	n.ui.Close()
	n.wg.Wait()
	n.ghCli.CloseIdleConnections()
	n.hookCli.CloseIdleConnections()
}

// SetWebhookURL sets the environment's webhook URL; "" turns webhooks off
// (they are then not sent, as with Nango). A connection's
// webhook_url_override takes precedence.
func (n *Nango) SetWebhookURL(u string) { authserver.Set(&n.mu, &n.webhookURL, u) }

// RotateWebhookKey makes webhooks queued from now on signed with newKey.
func (n *Nango) RotateWebhookKey(newKey string) { authserver.Set(&n.mu, &n.webhookKey, newKey) }

// SetLogin sets which fake-GitHub user authorizes in the Connect UI and
// in Connect.
func (n *Nango) SetLogin(login string) { authserver.Set(&n.mu, &n.login, login) }

// now is Nango's clock: the fake GitHub's.
func (n *Nango) now() time.Time { return n.gh.Now() }

// nangoTime formats t as JavaScript's Date.toISOString does.
func nangoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Connection returns a copy of a connection; deleted connections are not
// returned.
func (n *Nango) Connection(id string) (NangoConnection, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c, ok := n.byConnID[id]
	if !ok {
		return NangoConnection{}, false
	}
	return c.view(), true
}

// Connections returns the live connections of an integration ("" for
// all) in creation order.
func (n *Nango) Connections(integration string) []NangoConnection {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []NangoConnection
	for _, c := range n.conns {
		if !c.deleted && (integration == "" || c.integration == integration) {
			out = append(out, c.view())
		}
	}
	return out
}

// SyncTriggers returns the POST /sync/trigger calls accepted so far.
func (n *Nango) SyncTriggers() []NangoSyncTrigger {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]NangoSyncTrigger, len(n.triggers))
	for i, t := range n.triggers {
		t.Syncs = slices.Clone(t.Syncs)
		out[i] = t
	}
	return out
}

// Requests counts the API requests received (at URL) whose method is
// method ("" for any) and whose path starts with pathPrefix.
func (n *Nango) Requests(method, pathPrefix string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	count := 0
	for _, r := range n.requests {
		if (method == "" || strings.EqualFold(method, r.method)) && strings.HasPrefix(r.path, pathPrefix) {
			count++
		}
	}
	return count
}

// Sessions returns the connect sessions created so far, oldest first.
func (n *Nango) Sessions() []NangoSessionView {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]NangoSessionView, 0, len(n.sessions))
	for _, s := range n.sessions {
		v := NangoSessionView{
			Token:                 s.token,
			Tags:                  cloneTags(s.tags),
			AllowedIntegrations:   slices.Clone(s.allowed),
			WebhookURLOverride:    s.webhookOverride,
			ReconnectConnectionID: s.reconnect,
			ExpiresAt:             s.expires,
		}
		if s.endUser != nil {
			v.EndUser = s.endUser.view()
		}
		out = append(out, v)
	}
	return out
}

// cloneTags copies tags (nil stays nil).
func cloneTags(tags map[string]string) map[string]string {
	if tags == nil {
		return nil
	}
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		out[k] = v
	}
	return out
}

// jsonKV is a member of a jsonObj.
type jsonKV struct {
	K string
	V any
}

// jsonObj is a JSON object that keeps its members' order, as JavaScript
// objects do.
type jsonObj []jsonKV

// MarshalJSON writes the members in order.
func (o jsonObj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := jsMarshal(kv.K)
		if err != nil {
			return nil, err
		}
		v, err := jsMarshal(kv.V)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// get returns the value of key.
func (o jsonObj) get(key string) (any, bool) {
	for _, kv := range o {
		if kv.K == key {
			return kv.V, true
		}
	}
	return nil, false
}

// set replaces key's value or appends it.
func (o jsonObj) set(key string, v any) jsonObj {
	for i := range o {
		if o[i].K == key {
			o[i].V = v
			return o
		}
	}
	return append(o, jsonKV{key, v})
}

// keys returns the member names in order.
func (o jsonObj) keys() []string {
	out := make([]string, len(o))
	for i, kv := range o {
		out[i] = kv.K
	}
	return out
}

// jsMarshal is json.Marshal without HTML escaping, as JSON.stringify.
func jsMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// decodeOrdered parses JSON as JSON.parse does, keeping object member
// order (jsonObj; a repeated key keeps its last value) and numbers as
// json.Number.
func decodeOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeOrderedValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

func decodeOrderedValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		obj := jsonObj{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeOrderedValue(dec)
			if err != nil {
				return nil, err
			}
			obj = obj.set(kt.(string), v)
		}
		_, err := dec.Token()
		return obj, err
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := decodeOrderedValue(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token()
		return arr, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// refreshTokenKey matches the keys Nango strips from credentials and
// connection_config unless refresh_token=true.
var refreshTokenKey = regexp.MustCompile(`(?i)^refresh.?token$`)

// stripRefreshTokens returns v without refresh-token members, at any
// depth.
func stripRefreshTokens(v any) any {
	switch t := v.(type) {
	case jsonObj:
		out := jsonObj{}
		for _, kv := range t {
			if refreshTokenKey.MatchString(kv.K) {
				continue
			}
			out = append(out, jsonKV{kv.K, stripRefreshTokens(kv.V)})
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = stripRefreshTokens(e)
		}
		return out
	}
	return v
}
