package webhook

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/clientip"
	"github.com/gatehouse-auth/gatehouse/internal/metrics"
	"go.uber.org/zap"
)

// Limits on webhook bodies. A body is held in memory until its signature
// is checked, so what unauthenticated clients can make the process hold
// is bounded: per request, per client address and for the whole process.
const (
	// MaxBodyBytes bounds one webhook body (GitHub caps payloads at 25 MB;
	// App events and Nango's webhooks are far smaller).
	MaxBodyBytes = 5 << 20
	// MaxInFlightBytes bounds the webhook bodies held at once by this
	// process, over every handler and site.
	MaxInFlightBytes = 64 << 20
	// MaxInFlightPerClient bounds what one client address holds at once:
	// three bodies of the largest size. GitHub's and Nango's deliveries
	// are small, so a flood from elsewhere leaves them room.
	MaxInFlightPerClient = 3 * MaxBodyBytes
	// BodyTimeout is how long a client may take to send a body; GitHub
	// itself gives up on a delivery after 10 s.
	BodyTimeout = 30 * time.Second
	// RetryAfter is sent, in seconds, with 429 and 503 answers.
	RetryAfter = "5"
)

// chunk is the step by which a body of unknown length is read and
// accounted for.
const chunk = 32 << 10

// bodies is this process's budget for webhook bodies in flight.
var bodies = newBudget(MaxInFlightBytes, MaxInFlightPerClient)

// budget counts bytes held, in total and per client.
type budget struct {
	total, perClient int64

	mu       sync.Mutex
	used     int64
	byClient map[string]int64 // only clients holding something
}

func newBudget(total, perClient int64) *budget {
	return &budget{total: total, perClient: perClient, byClient: map[string]int64{}}
}

// Refusals of take.
var (
	errBusy       = errors.New("webhook bodies in flight exceed the process's budget")
	errClientBusy = errors.New("webhook bodies in flight from this client exceed its budget")
)

// take reserves n more bytes for client, or says which limit refuses.
func (b *budget) take(client string, n int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byClient[client]+n > b.perClient {
		return errClientBusy
	}
	if b.used+n > b.total {
		return errBusy
	}
	b.used += n
	b.byClient[client] += n
	metrics.WebhookBodyBytes.Set(float64(b.used))
	return nil
}

// give returns n bytes reserved for client.
func (b *budget) give(client string, n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	if left := b.byClient[client] - n; left > 0 {
		b.byClient[client] = left
	} else {
		delete(b.byClient, client)
	}
	metrics.WebhookBodyBytes.Set(float64(b.used))
}

// InFlight returns the bytes of webhook bodies this process holds now.
func InFlight() int64 {
	bodies.mu.Lock()
	defer bodies.mu.Unlock()
	return bodies.used
}

// Body is a webhook body read within the budget. Release gives its
// memory back to the budget; call it once the body is no longer needed.
type Body struct {
	Data   []byte
	client string
	held   int64
}

// Release returns the body's bytes to the budget.
func (b *Body) Release() {
	if b != nil {
		bodies.give(b.client, b.held)
		b.held = 0
	}
}

// ReadBody reads r's body, at most max bytes, within this process's
// budget for webhook bodies. A body whose length is declared is refused
// before anything is read when it is too large (413) or does not fit the
// budget: 429 when its client holds too much already, 503 when the
// process does (both to be retried; the caller adds Retry-After). A body
// sent in chunks is accounted for as it grows. On failure it returns the
// status to answer with and holds nothing.
func ReadBody(r *http.Request, limit int64) (*Body, int) {
	if r.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge
	}
	b := &Body{client: clientip.Of(r)}
	status := b.read(r.Body, r.ContentLength, limit)
	if status != 0 {
		b.Release()
		return nil, status
	}
	return b, 0
}

func (b *Body) grow(n int64) int {
	switch err := bodies.take(b.client, n); {
	case errors.Is(err, errClientBusy):
		return http.StatusTooManyRequests
	case err != nil:
		return http.StatusServiceUnavailable
	}
	b.held += n
	return 0
}

func (b *Body) read(body io.Reader, length, limit int64) int {
	if length >= 0 {
		if status := b.grow(length); status != 0 {
			return status
		}
		b.Data = make([]byte, length)
		if _, err := io.ReadFull(body, b.Data); err != nil {
			return http.StatusBadRequest
		}
		return 0
	}
	buf := make([]byte, 0)
	for {
		if len(buf) == cap(buf) {
			// The budget counts the buffer's capacity, reserved before
			// the buffer grows.
			size := min(max(2*int64(cap(buf)), chunk), limit+1)
			if status := b.grow(size - int64(cap(buf))); status != 0 {
				return status
			}
			buf = append(make([]byte, 0, size), buf...)
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return http.StatusRequestEntityTooLarge
		}
		if err == io.EOF {
			b.Data = buf
			return 0
		}
		if err != nil {
			return http.StatusBadRequest
		}
	}
}

// ReadResult names a ReadBody failure for the delivery metrics:
// over_budget for a body refused to keep memory bounded, bad_request
// otherwise.
func ReadResult(status int) string {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		return "over_budget"
	}
	return "bad_request"
}

// Prepare readies a webhook request before its body is read: it bounds
// the time the client may take to send it, so a body trickled in cannot
// hold its share of the budget for long.
func Prepare(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(BodyTimeout))
}

// ReadVerified reads a delivery's body within the budget and checks its
// signature with verify; it returns the body, or the status to answer
// (0 with a body). Refusals are logged and counted as source's
// "unverified" deliveries. The caller must Release the body.
func ReadVerified(r *http.Request, source string, log *zap.Logger, verify func(body []byte) error) (*Body, int) {
	unverified := Delivery{Source: source, Type: "unverified"}
	b, status := ReadBody(r, MaxBodyBytes)
	if status != 0 {
		unverified.Count(ReadResult(status))
		return nil, status
	}
	if err := verify(b.Data); err != nil {
		b.Release()
		log.Warn(source+" webhook refused: bad signature", zap.Error(err))
		unverified.Count("refused")
		return nil, http.StatusUnauthorized
	}
	return b, 0
}
