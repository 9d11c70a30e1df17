package gate

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/gatehouse-auth/gatehouse/internal/clientip"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/metrics"
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
	ip := clientip.Of(r)
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
	if !loginstate.ValidBinding(binding) {
		binding = loginstate.NewBinding()
	}
	return binding, true
}

// DefaultFlowsPerMinute is how many flows may start per minute over every
// instance sharing the store, unless logins_per_minute says otherwise.
// Each flow's record lives ten minutes, so the store holds at most about
// eleven times this many.
const DefaultFlowsPerMinute = 6000

// errTooManyFlowsEverywhere answers a flow over the shared limit.
var errTooManyFlowsEverywhere = problem{
	status: http.StatusServiceUnavailable, code: "too_many_logins", heading: "Too many sign-in attempts",
	message: "Too many sign-ins are in progress right now. Please try again in a minute.",
}

// startFlow admits a new flow for r's client and within the limit all
// instances share, answering 429 (this client) or 503 (everyone)
// otherwise.
func (g *Gate) startFlow(w http.ResponseWriter, r *http.Request) bool {
	if !g.flows.allow(r) {
		g.log(r).Warn("flow refused: too many from this client")
		metrics.FlowsRefused.WithLabelValues("client").Inc()
		w.Header().Set("Retry-After", "60")
		g.fail(w, r, errTooManyFlows)
		return false
	}
	now := time.Now()
	window := now.Unix() / 60
	n, err := g.Store.Incr(r.Context(), g.KeyPrefix+"flows:"+strconv.FormatInt(window, 10), 2*time.Minute)
	if err != nil {
		g.log(r).Warn("flow refused: store unavailable", zap.Error(err))
		g.fail(w, r, errStoreDown)
		return false
	}
	if n > int64(g.flowsPerMinute()) {
		g.log(r).Warn("flow refused: the limit shared by all instances is reached", zap.Int("logins_per_minute", g.flowsPerMinute()))
		metrics.FlowsRefused.WithLabelValues("shared").Inc()
		w.Header().Set("Retry-After", strconv.FormatInt(60-now.Unix()%60, 10))
		g.fail(w, r, errTooManyFlowsEverywhere)
		return false
	}
	return true
}

func (g *Gate) flowsPerMinute() int {
	if g.FlowsPerMinute > 0 {
		return g.FlowsPerMinute
	}
	return DefaultFlowsPerMinute
}
