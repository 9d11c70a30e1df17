package fakenango

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
)

// nangoNonForwardableHeaders are the prefixes of incoming webhook headers
// Nango does not forward (packages/webhooks/lib/utils.ts).
var nangoNonForwardableHeaders = []string{
	"host", "authorization", "connection", "keep-alive", "content-length", "content-type",
	"content-encoding", "cookie", "set-cookie", "referer", "user-agent", "sec-", "proxy-",
	"www-authenticate", "server",
}

// NangoDelivery is a webhook the fake Nango sent (or is sending).
type NangoDelivery struct {
	Type         string // "auth", "sync", "forward", …
	Operation    string // auth: creation, override, refresh; else ""
	ConnectionID string // "" when the payload has none
	URL          string
	Body         []byte
	Header       http.Header
	// Statuses are the HTTP statuses of the attempts made so far, 0 for a
	// network error.
	Statuses []int
	// Done is true once the final attempt was made (a non-retryable answer
	// or the last of NangoWebhookAttempts).
	Done bool
}

// NangoSign returns the two signature header values Nango sends for body
// under key: X-Nango-Hmac-Sha256 = hex(HMAC-SHA256(key, body)) and the
// legacy X-Nango-Signature = hex(SHA256(key + body)).
func NangoSign(key, body []byte) (hmacHex, legacyHex string) {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	h := sha256.New()
	h.Write(key)
	h.Write(body)
	return hex.EncodeToString(mac.Sum(nil)), hex.EncodeToString(h.Sum(nil))
}

// NangoWebhookBody encodes a payload as Nango does
// (fast-safe-stringify's stableStringify): object keys sorted (by UTF-16
// code units, as JavaScript sorts), no whitespace, and strings and numbers
// written as JSON.stringify writes them (no HTML escaping, JavaScript
// number formatting). Values may be nil, bool, strings, numbers,
// json.Number, json.RawMessage, maps and slices; anything else is encoded
// with encoding/json first.
func NangoWebhookBody(payload map[string]any) []byte {
	var b bytes.Buffer
	writeStableJSON(&b, payload)
	return b.Bytes()
}

// writeStableJSON writes v as stableStringify does.
func writeStableJSON(b *bytes.Buffer, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case string:
		writeJSString(b, t)
	case float64:
		b.WriteString(jsNumber(t))
	case float32:
		b.WriteString(jsNumber(float64(t)))
	case int:
		b.WriteString(strconv.Itoa(t))
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(t), 10))
	case uint64:
		b.WriteString(strconv.FormatUint(t, 10))
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			b.WriteString("null")
			return
		}
		b.WriteString(jsNumber(f))
	case json.RawMessage:
		var x any
		if err := json.Unmarshal(t, &x); err != nil {
			panic("fakenango: NangoWebhookBody: invalid json.RawMessage: " + err.Error())
		}
		writeStableJSON(b, x)
	case map[string]any:
		writeStableObject(b, slices.Collect(maps.Keys(t)), func(k string) any { return t[k] })
	case map[string]string:
		writeStableObject(b, slices.Collect(maps.Keys(t)), func(k string) any { return t[k] })
	case jsonObj:
		m := map[string]any{}
		for _, kv := range t {
			m[kv.K] = kv.V
		}
		writeStableJSON(b, m)
	case []any:
		writeList(b, '[', ']', len(t), func(i int) { writeStableJSON(b, t[i]) })
	default:
		rv := reflect.ValueOf(v)
		if (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Map || rv.Kind() == reflect.Slice) && rv.IsNil() {
			b.WriteString("null")
			return
		}
		data, err := json.Marshal(v)
		if err != nil {
			panic("fakenango: NangoWebhookBody: " + err.Error())
		}
		var x any
		if err := json.Unmarshal(data, &x); err != nil {
			panic("fakenango: NangoWebhookBody: " + err.Error())
		}
		writeStableJSON(b, x)
	}
}

// writeStableObject writes an object with keys in JavaScript sort order.
func writeStableObject(b *bytes.Buffer, keys []string, value func(string) any) {
	slices.SortFunc(keys, func(x, y string) int {
		return slices.Compare(utf16.Encode([]rune(x)), utf16.Encode([]rune(y)))
	})
	writeList(b, '{', '}', len(keys), func(i int) {
		writeJSString(b, keys[i])
		b.WriteByte(':')
		writeStableJSON(b, value(keys[i]))
	})
}

// writeList writes n items (item(i) writes one) between open and end,
// separated by commas.
func writeList(b *bytes.Buffer, open, end byte, n int, item func(i int)) {
	b.WriteByte(open)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		item(i)
	}
	b.WriteByte(end)
}

// writeJSString writes s as JSON.stringify does: only ", \ and control
// characters are escaped.
func writeJSString(b *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s { // invalid UTF-8 becomes U+FFFD
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[r>>4])
				b.WriteByte(hexDigits[r&0xf])
				continue
			}
			var buf [utf8.UTFMax]byte
			b.Write(buf[:utf8.EncodeRune(buf[:], r)])
		}
	}
	b.WriteByte('"')
}

// jsNumber formats f as JavaScript's Number.prototype.toString.
func jsNumber(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null"
	}
	if f == 0 {
		return "0"
	}
	if abs := math.Abs(f); abs >= 1e21 || abs < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		return mant + "e" + string(sign) + exp
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// queueLocked queues a webhook with a Nango payload (n.mu held).
func (n *Nango) queueLocked(payload map[string]any) {
	typ, _ := payload["type"].(string)
	op, _ := payload["operation"].(string)
	connID, _ := payload["connectionId"].(string)
	n.enqueueLocked(typ, op, connID, NangoWebhookBody(payload), nil)
}

// enqueueLocked signs body and starts its delivery after the deliveries
// queued before for the same connection (n.mu held). Without a webhook
// URL nothing is sent.
func (n *Nango) enqueueLocked(typ, op, connID string, body []byte, incoming http.Header) {
	target := n.webhookURL
	if c := n.byConnID[connID]; c != nil && c.webhookOverride != "" {
		target = c.webhookOverride
	}
	if target == "" {
		n.dropped++
		return
	}
	h := http.Header{}
	for k, v := range incoming {
		lk := strings.ToLower(k)
		if slices.ContainsFunc(nangoNonForwardableHeaders, func(p string) bool { return strings.HasPrefix(lk, p) }) {
			continue
		}
		h[k] = slices.Clone(v)
	}
	hmacHex, legacyHex := NangoSign([]byte(n.webhookKey), body)
	h.Set("X-Nango-Signature", legacyHex)
	h.Set("X-Nango-Hmac-Sha256", hmacHex)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", NangoWebhookUserAgent)
	d := &NangoDelivery{Type: typ, Operation: op, ConnectionID: connID, URL: target, Body: body, Header: h}
	n.deliveries = append(n.deliveries, d)
	key := connID
	if key == "" {
		key = fmt.Sprintf("#%d", len(n.deliveries))
	}
	prev := n.chains[key]
	done := make(chan struct{})
	n.chains[key] = done
	n.wg.Add(1)
	go n.deliver(d, prev, done)
}

// deliver sends d once prev is done: up to NangoWebhookAttempts attempts,
// retrying network errors and 5xx after RetryDelay, then twice that.
func (n *Nango) deliver(d *NangoDelivery, prev <-chan struct{}, done chan<- struct{}) {
	defer n.wg.Done()
	defer close(done)
	if prev != nil {
		select {
		case <-prev:
		case <-n.ctx.Done():
			return
		}
	}
	for attempt := 0; attempt < NangoWebhookAttempts; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(n.retryDelay << (attempt - 1)):
			case <-n.ctx.Done():
				return
			}
		}
		status := n.post(d)
		retry := (status == 0 || status >= 500) && attempt < NangoWebhookAttempts-1
		n.mu.Lock()
		d.Statuses = append(d.Statuses, status)
		d.Done = !retry
		n.mu.Unlock()
		if !retry {
			return
		}
	}
}

// post makes one delivery attempt and returns its status (0 for a
// network error).
func (n *Nango) post(d *NangoDelivery) int {
	ctx, cancel := context.WithTimeout(n.ctx, NangoWebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0
	}
	req.Header = d.Header.Clone()
	resp, err := n.hookCli.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode
}

// Send signs a payload with the current webhook key and queues it (to the
// webhook_url_override of the connection named by its connectionId, else
// the webhook URL).
func (n *Nango) Send(payload map[string]any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.queueLocked(payload)
}

// SendSync queues a successful sync webhook (section B) with
// responseResults {added: 1, updated: 0, deleted: 0}.
func (n *Nango) SendSync(integration, connectionID, syncName, model string) {
	n.SendSyncResults(integration, connectionID, syncName, model, 1, 0, 0)
}

// SendSyncResults queues a successful sync webhook with the given counts.
func (n *Nango) SendSyncResults(integration, connectionID, syncName, model string, added, updated, deleted int) {
	now := nangoTime(n.now())
	n.Send(map[string]any{
		"connectionId":      connectionID,
		"from":              "nango",
		"model":             model,
		"modifiedAfter":     now,
		"providerConfigKey": integration,
		"queryTimeStamp":    now,
		"responseResults":   map[string]any{"added": added, "updated": updated, "deleted": deleted},
		"success":           true,
		"syncName":          syncName,
		"syncType":          "INCREMENTAL",
		"syncVariant":       "base",
		"type":              "sync",
	})
}

// forwardHeaders are the headers GitHub sends with a webhook to Nango
// (those Nango does not forward included; they are filtered on queueing).
func (n *Nango) forwardHeaders(integration, event string, payload []byte) http.Header {
	h := http.Header{}
	h.Set("Accept", "*/*")
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", fakegithub.HookshotUA)
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", authserver.UUID())
	h.Set("X-GitHub-Hook-ID", "109948940")
	if in, ok := n.integrations[integration]; ok && in.Provider == "github-app-oauth" {
		if _, appID, ok := n.gh.LookupClient(in.ClientID); ok {
			h.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(appID, 10))
			h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
		}
	}
	fakegithub.SetSignatures(h, NangoGitHubWebhookSecret, payload)
	return h
}

// decodeForwardPayload parses a GitHub webhook body as JSON.parse does.
func decodeForwardPayload(payload []byte) any {
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		panic("fakenango: fake Nango: forwarded webhook payload is not JSON: " + err.Error())
	}
	return v
}

// SendForward queues an attributed forward webhook, as Nango sends when
// a GitHub webhook for the integration matches the connection:
// {"connectionId","from":<provider>,"payload":<GitHub body>,
// "providerConfigKey","type":"forward"}, with GitHub's headers
// (X-GitHub-Event, X-GitHub-Delivery, X-GitHub-Hook-*, X-Hub-Signature*)
// copied except those Nango drops (content-*, user-agent, …). The
// forwarded X-Hub-Signature-256 does not match Nango's body.
func (n *Nango) SendForward(integration, connectionID string, githubEvent string, payload []byte) {
	provider := n.integrations[integration].Provider
	body := NangoWebhookBody(map[string]any{
		"connectionId":      connectionID,
		"from":              provider,
		"payload":           decodeForwardPayload(payload),
		"providerConfigKey": integration,
		"type":              "forward",
	})
	h := n.forwardHeaders(integration, githubEvent, payload)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.enqueueLocked("forward", "", connectionID, body, h)
}

// SendForwardUnattributed queues a forward of a GitHub webhook that
// matched no connection: the raw GitHub body (re-encoded with sorted
// keys) without Nango's wrapper, with the same headers as SendForward.
func (n *Nango) SendForwardUnattributed(integration, githubEvent string, payload []byte) {
	var body bytes.Buffer
	writeStableJSON(&body, decodeForwardPayload(payload))
	h := n.forwardHeaders(integration, githubEvent, payload)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.enqueueLocked("forward", "", "", body.Bytes(), h)
}

// SendRefreshFailure queues an auth webhook with operation "refresh",
// success false and error {type, description}, without endUser, as Nango
// sends when refreshing a connection's token fails.
func (n *Nango) SendRefreshFailure(integration, connectionID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	errObj := map[string]any{"type": "refresh_token_external_error", "description": msgRefreshExternal}
	c := n.byConnID[connectionID]
	if c == nil || c.integration != integration {
		c = &nangoConn{id: connectionID, integration: integration, provider: n.integrations[integration].Provider}
	}
	n.queueLocked(n.authPayload(c, "refresh", false, errObj, false))
}

// Deliveries lists every webhook sent so far, in queueing order, with the
// status of each attempt made.
func (n *Nango) Deliveries() []NangoDelivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]NangoDelivery, len(n.deliveries))
	for i, d := range n.deliveries {
		c := *d
		c.Body = slices.Clone(d.Body)
		c.Header = d.Header.Clone()
		c.Statuses = slices.Clone(d.Statuses)
		out[i] = c
	}
	return out
}

// WaitDeliveries waits (at most 10 s) until count deliveries are Done and
// returns all deliveries; otherwise it fails t (t.Fatalf: call it from the
// test goroutine).
func (n *Nango) WaitDeliveries(t testing.TB, count int) []NangoDelivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n.mu.Lock()
		done := 0
		for _, d := range n.deliveries {
			if d.Done {
				done++
			}
		}
		total, dropped := len(n.deliveries), n.dropped
		n.mu.Unlock()
		if done >= count {
			return n.Deliveries()
		}
		if time.Now().After(deadline) {
			t.Fatalf("fake Nango: %d of %d webhook deliveries done after 10 s (%d queued, %d not sent for lack of a webhook URL)",
				done, count, total, dropped)
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}
