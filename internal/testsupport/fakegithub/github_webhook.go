package fakegithub

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// HookshotUA is the User-Agent of webhook deliveries.
const HookshotUA = "GitHub-Hookshot/044aadd"

// SendWebhook delivers a webhook to targetURL as GitHub does: POST with
// Content-Type application/json, the body exactly as given, signed with
// secret in X-Hub-Signature-256 (sha256=…) and the legacy X-Hub-Signature
// (sha1=…), and X-GitHub-Event, a fresh X-GitHub-Delivery GUID,
// X-GitHub-Hook-ID, X-GitHub-Hook-Installation-Target-ID (the first
// registered GitHub App's ID) and -Type ("integration"), and User-Agent
// GitHub-Hookshot/…. Redirects are not followed. The response body is read
// into memory, so the caller need not close it. It returns the delivery
// ID.
func (g *GitHub) SendWebhook(targetURL, secret, event string, body []byte) (*http.Response, string, error) {
	id := authserver.UUID()
	resp, err := g.deliver(targetURL, secret, event, id, body)
	return resp, id, err
}

// Redeliver sends a delivery again with the same X-GitHub-Delivery, as
// GitHub's "Redeliver" button does.
func (g *GitHub) Redeliver(targetURL, secret, event, deliveryID string, body []byte) (*http.Response, error) {
	return g.deliver(targetURL, secret, event, deliveryID, body)
}

// deliver POSTs one signed delivery.
func (g *GitHub) deliver(targetURL, secret, event, deliveryID string, body []byte) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, targetURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("fake GitHub: webhook request: %w", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", HookshotUA)
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", deliveryID)
	g.mu.Lock()
	h.Set("X-GitHub-Hook-ID", strconv.FormatInt(g.hookID, 10))
	if len(g.apps) > 0 {
		h.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(g.apps[0].appID, 10))
		h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	}
	g.mu.Unlock()
	SetSignatures(h, secret, body)
	resp, err := g.hookCli.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fake GitHub: delivering %s webhook: %w", event, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("fake GitHub: reading webhook response: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, nil
}
