// Package forward passes webhooks Gatehouse has received (Nango's sync and
// forward webhooks) on to an operator-configured URL, at least once.
//
// Enqueue stores a delivery in a store.Queue before the webhook is
// answered; a delivery loop (Start) claims queued deliveries and POSTs
// them, retrying with exponential backoff until the receiver takes them.
// The queue is shared by every instance using the same store: a delivery
// survives instance restarts and an upstream that is down for a long time,
// and a delivery claimed by an instance that died is taken over by another
// after Options.Stale. Receivers should deduplicate on the
// X-Gatehouse-Delivery header, since a delivery in flight when an
// instance dies or stops is sent again.
package forward

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/backoff"
	"github.com/gatehouse-auth/gatehouse/internal/metrics"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Headers set on every delivery request.
const (
	// HeaderDelivery carries Delivery.ID, the same on every attempt.
	HeaderDelivery = "X-Gatehouse-Delivery"
	// HeaderAttempt carries the 1-based attempt number (counted per
	// instance: a delivery taken over by another instance starts at 1
	// again).
	HeaderAttempt = "X-Gatehouse-Attempt"
)

// Defaults for Options.
const (
	DefaultGroup       = "forward"
	DefaultMinBackoff  = time.Second
	DefaultMaxBackoff  = time.Minute
	DefaultStale       = time.Minute
	DefaultHTTPTimeout = 30 * time.Second
)

const (
	// claimBatch is how many deliveries one Claim takes.
	claimBatch = 16
	// maxClaimWait is how long a Claim waits for a new delivery; shorter
	// when Stale is short, so that a stale claim is taken over soon after it
	// goes stale.
	maxClaimWait = 2 * time.Second
	// ackTimeout bounds the first Ack after a delivery succeeded, which runs
	// even when Stop was called meanwhile (acking spares a duplicate).
	ackTimeout = 5 * time.Second
	// maxDrain is how much of a response body is read (and discarded) so
	// that the connection can be reused.
	maxDrain = 64 << 10
	// jitter is the relative spread of backoff waits (±20%).
	jitter = 0.2
)

// Delivery is one webhook to pass on.
type Delivery struct {
	// ID identifies the delivery for the receiver's idempotency (sent as
	// X-Gatehouse-Delivery). Enqueue fills in a random one when it is
	// empty.
	ID string
	// Header holds the original headers worth passing on (e.g.
	// X-Nango-Hmac-Sha256); copied as given, except that Content-Type,
	// User-Agent, X-Gatehouse-Delivery and X-Gatehouse-Attempt are always
	// Gatehouse's own.
	Header http.Header
	// Body is sent unchanged (Content-Type: application/json).
	Body []byte
}

// Options configures a Forwarder. Queue, Stream and URL are required;
// zero values of the others take their defaults.
type Options struct {
	Queue store.Queue
	// Stream is the queue name, e.g. "<key prefix>forward:nango".
	Stream string
	// Group is the consumer group. Default "forward".
	Group string
	// Consumer names this instance in the group. It must be unique among
	// running Forwarders on the same queue (two with one name would send
	// each other's claimed deliveries twice), and is best stable across
	// restarts: a restarted instance then sends what it had claimed at
	// once, instead of another taking it over after Stale. Default
	// hostname + "-" + pid (unique, not stable).
	Consumer string
	// URL is where deliveries are POSTed: an absolute http or https URL.
	URL string
	// HTTP sends the deliveries. Default: a client with a 30 s timeout that
	// does not follow redirects (a redirect answer is retried like a 5xx,
	// since following a 301 or 302 would turn the POST into a GET).
	HTTP *http.Client
	// MinBackoff and MaxBackoff bound the wait between attempts (and
	// between retries of a failed store operation): it starts at
	// MinBackoff and doubles up to MaxBackoff, ±20% jitter. Defaults 1 s
	// and 1 min.
	MinBackoff, MaxBackoff time.Duration
	// Stale is how old a claim must be for another instance to take it
	// over (the instance holding it died). A delivery being retried keeps
	// its claim fresh. Default 1 min.
	Stale time.Duration
	// Logger receives structured logs; never bodies or header values.
	// Default: nop.
	Logger *zap.Logger
}

// Forwarder delivers queued webhooks. Its methods are safe for concurrent
// use.
type Forwarder struct {
	opts      Options
	log       *zap.Logger
	claimWait time.Duration

	mu     sync.Mutex
	cancel context.CancelFunc // nil while stopped
	done   chan struct{}      // closed when the running loop has ended
}

// New validates opts, fills in defaults and returns a stopped Forwarder.
func New(opts Options) (*Forwarder, error) {
	if opts.Queue == nil {
		return nil, errors.New("forward: no queue")
	}
	if opts.Stream == "" {
		return nil, errors.New("forward: no stream name")
	}
	if err := checkURL(opts.URL); err != nil {
		return nil, err
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"min backoff", opts.MinBackoff}, {"max backoff", opts.MaxBackoff}, {"stale", opts.Stale}} {
		if d.v < 0 {
			return nil, fmt.Errorf("forward: %s must not be negative, got %v", d.name, d.v)
		}
	}
	if opts.Group == "" {
		opts.Group = DefaultGroup
	}
	if opts.Consumer == "" {
		opts.Consumer = defaultConsumer()
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{
			Timeout:       DefaultHTTPTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opts.MinBackoff == 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = max(DefaultMaxBackoff, opts.MinBackoff)
	}
	if opts.MinBackoff > opts.MaxBackoff {
		return nil, fmt.Errorf("forward: min backoff %v is above max backoff %v", opts.MinBackoff, opts.MaxBackoff)
	}
	if opts.Stale == 0 {
		opts.Stale = DefaultStale
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return &Forwarder{
		opts:      opts,
		log:       opts.Logger,
		claimWait: min(maxClaimWait, max(opts.Stale/2, time.Millisecond)),
	}, nil
}

// checkURL accepts an absolute http or https URL with a host. Errors do not
// show the URL, which may hold a secret.
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("forward: no url")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("forward: url does not parse")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return fmt.Errorf("forward: url scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("forward: url has no host")
	}
	return nil
}

func defaultConsumer() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "gatehouse"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// record is a Delivery as stored in the queue.
type record struct {
	ID     string      `json:"id"`
	Header http.Header `json:"header,omitempty"`
	Body   []byte      `json:"body"`
}

// Enqueue persists d (JSON-encoded into the queue) and returns once it is
// stored; an error means it was not.
func (f *Forwarder) Enqueue(ctx context.Context, d Delivery) error {
	if d.ID == "" {
		d.ID = newID()
	}
	data, err := json.Marshal(record{ID: d.ID, Header: d.Header, Body: d.Body})
	if err != nil {
		return fmt.Errorf("forward: encode delivery %s: %w", d.ID, err)
	}
	if _, err := f.opts.Queue.Enqueue(ctx, f.opts.Stream, data); err != nil {
		return fmt.Errorf("forward: enqueue delivery %s: %w", d.ID, err)
	}
	return nil
}

// Depth is how many deliveries wait (for metrics), those being attempted
// included.
func (f *Forwarder) Depth(ctx context.Context) (int64, error) {
	n, err := f.opts.Queue.Depth(ctx, f.opts.Stream)
	if err != nil {
		return 0, fmt.Errorf("forward: depth: %w", err)
	}
	return n, nil
}

// Start runs the delivery loop in a goroutine. Starting a running
// Forwarder does nothing.
func (f *Forwarder) Start() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan struct{})
	go f.run(ctx, f.done)
}

// Stop ends the delivery loop and waits for it. A delivery in flight is
// cancelled and stays queued, claimed by this consumer: the next Start (of
// a Forwarder with the same Consumer) sends it again, or another instance
// takes it over after Stale. Stopping a stopped Forwarder does nothing.
func (f *Forwarder) Stop() {
	f.mu.Lock()
	cancel, done := f.cancel, f.done
	f.cancel, f.done = nil, nil
	f.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// run claims and delivers until ctx is done.
func (f *Forwarder) run(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	o := &f.opts
	storeRetry := f.newBackoff()
	for {
		msgs, err := o.Queue.Claim(ctx, o.Stream, o.Group, o.Consumer, claimBatch, o.Stale, f.claimWait)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			wait := storeRetry.Next()
			f.log.Warn("forward: cannot claim deliveries from the store; retrying",
				zap.Error(err), zap.Duration("retry_in", wait))
			if !backoff.Sleep(ctx, wait) {
				return
			}
			continue
		}
		storeRetry.Reset()
		if len(msgs) > 0 {
			f.deliverBatch(ctx, msgs)
		}
		if n, err := o.Queue.Depth(ctx, o.Stream); err == nil {
			metrics.ForwardQueueDepth.Set(float64(n))
		}
	}
}

// deliverBatch delivers msgs in order, keeping the claims of those not
// done yet fresh meanwhile.
func (f *Forwarder) deliverBatch(ctx context.Context, msgs []store.Message) {
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	k := f.keep(ctx, ids)
	defer k.stop()
	for _, m := range msgs {
		if ctx.Err() != nil {
			return
		}
		if !k.lost(m.ID) {
			f.deliver(ctx, k, m)
		}
		k.release(m.ID)
	}
}

// deliver sends one queued delivery until it is delivered, refused for
// good, taken over by another consumer, or ctx is done.
func (f *Forwarder) deliver(ctx context.Context, k *keeper, m store.Message) {
	var d record
	if err := json.Unmarshal(m.Body, &d); err != nil || d.ID == "" {
		if err == nil {
			err = errors.New("no delivery id")
		}
		f.log.Error("forward: cannot decode a queued delivery; dropping it",
			zap.String("message_id", m.ID), zap.Error(err))
		f.ack(ctx, m.ID, d.ID)
		return
	}
	retry := f.newBackoff()
	for attempt := 1; ; attempt++ {
		status, retryAfter, err := f.post(ctx, &d, attempt)
		fields := []zap.Field{zap.String("delivery", d.ID), zap.Int("attempt", attempt)}
		switch {
		case err == nil && status >= 200 && status < 300:
			f.log.Debug("forward: delivered", append(fields, zap.Int("status", status))...)
			metrics.Forwarded.WithLabelValues("delivered").Inc()
			f.ack(ctx, m.ID, d.ID)
			return
		case ctx.Err() != nil:
			return // stopping: the delivery stays queued
		case err == nil && !retryable(status):
			f.log.Error("forward: upstream refused the delivery; dropping it",
				append(fields, zap.Int("status", status))...)
			metrics.Forwarded.WithLabelValues("dropped").Inc()
			f.ack(ctx, m.ID, d.ID)
			return
		}
		wait := retry.Next()
		if retryAfter > 0 {
			wait = min(max(retryAfter, f.opts.MinBackoff), f.opts.MaxBackoff)
		}
		fields = append(fields, zap.Duration("retry_in", wait))
		if err != nil {
			fields = append(fields, zap.Error(err))
		} else {
			fields = append(fields, zap.Int("status", status))
		}
		f.log.Warn("forward: delivery failed; retrying", fields...)
		metrics.Forwarded.WithLabelValues("retried").Inc()
		if !backoff.Sleep(ctx, wait) {
			return
		}
		if k.lost(m.ID) {
			f.log.Warn("forward: delivery taken over by another instance; leaving it to that one",
				zap.String("delivery", d.ID), zap.Int("attempt", attempt))
			return
		}
	}
}

// retryable reports whether a non-2xx status is worth retrying: server
// errors, 408, 425, 429, and redirects (which the default client does not
// follow: a misconfigured URL, better kept than dropped).
func retryable(status int) bool {
	switch {
	case status >= 500, status < 400:
		return true
	}
	switch status {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return false
}

// post makes one attempt and returns the status, and the Retry-After wait
// of a 429 or 503 (0 when absent).
func (f *Forwarder) post(ctx context.Context, d *record, attempt int) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.opts.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, 0, err
	}
	for name, values := range d.Header {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gatehouse")
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	resp, err := f.opts.HTTP.Do(req)
	if err != nil {
		// A *url.Error repeats the URL, which may hold a secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	var retryAfter time.Duration
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return resp.StatusCode, retryAfter, nil
}

// parseRetryAfter reads a Retry-After header: delay seconds, or an HTTP
// date. It returns 0 for none, a malformed one or a date in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// ack removes a finished delivery from the queue, retrying a failing store
// until ctx is done. The first try runs even when ctx is already done (the
// receiver has the delivery: acking spares it a duplicate).
func (f *Forwarder) ack(ctx context.Context, msgID, deliveryID string) {
	o := &f.opts
	first, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	err := o.Queue.Ack(first, o.Stream, o.Group, msgID)
	cancel()
	retry := f.newBackoff()
	for err != nil {
		wait := retry.Next()
		f.log.Warn("forward: cannot remove a finished delivery from the store; retrying",
			zap.String("delivery", deliveryID), zap.Error(err), zap.Duration("retry_in", wait))
		if !backoff.Sleep(ctx, wait) {
			return // it will be sent again: at least once
		}
		err = o.Queue.Ack(ctx, o.Stream, o.Group, msgID)
	}
}

// newID returns a random delivery id.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}
