package gate

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"golang.org/x/time/rate"

	"github.com/gatehouse-auth/gatehouse/internal/login"
)

// Limits on flows in progress (logins, Nango logins, GitHub App connects,
// account links) per client IP, per instance: each one writes a record
// to the store for ten minutes, so a client that starts them without end
// would flood the store.
const (
	// FlowBurst is how many flows a client may start at once (generous:
	// many users may share one address behind a NAT).
	FlowBurst = 100
	// FlowRate is how many more it may start per second after that.
	FlowRate = 5
	// flowClients bounds the clients tracked; past it the table starts
	// afresh (a flood from that many addresses is beyond this limiter).
	flowClients = 10000
)

// flowLimiter is a token bucket per client IP.
type flowLimiter struct {
	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

// allow reports whether the client of r may start another flow.
func (l *flowLimiter) allow(r *http.Request) bool {
	ip := clientIP(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients == nil || len(l.clients) >= flowClients {
		l.clients = map[string]*rate.Limiter{}
	}
	lim := l.clients[ip]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(FlowRate), FlowBurst)
		l.clients[ip] = lim
	}
	return lim.AllowN(time.Now(), 1)
}

// clientIP is the client's address as Caddy determined it (honouring the
// server's trusted_proxies), else the peer's.
func clientIP(r *http.Request) string {
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		return ip
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// errTooManyFlows answers a client over its flow limit.
var errTooManyFlows = problem{
	status: http.StatusTooManyRequests, code: "too_many_logins", heading: "Too many sign-in attempts",
	message: "Too many sign-ins were started from your address. Please wait a minute and try again.",
}

// flowBinding admits a new flow (login, link, connect) for r's client and
// returns the browser binding to tie it to: the browser's, or a new one.
// It answers 429 itself when the client is over its limit.
func (g *Gate) flowBinding(w http.ResponseWriter, r *http.Request) (string, bool) {
	if !g.startFlow(w, r) {
		return "", false
	}
	binding := cookieValue(r.Header["Cookie"], g.bindingName)
	if !login.ValidBinding(binding) {
		binding = login.NewBinding()
	}
	return binding, true
}

// startFlow admits a new flow for r's client, answering 429 otherwise.
func (g *Gate) startFlow(w http.ResponseWriter, r *http.Request) bool {
	if g.flows.allow(r) {
		return true
	}
	g.log(r).Warn("flow refused: too many from this client")
	w.Header().Set("Retry-After", "60")
	g.fail(w, r, errTooManyFlows)
	return false
}
