package nango

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKey is the fake environment API key; no error may contain it.
const testKey = "nango-test-secret-key-4f1c2b7e"

// recorded is one request the fake Nango received.
type recorded struct {
	Method     string
	RequestURI string
	Header     http.Header
	Body       string
}

// fakeNango answers every request with a fixed status and body, the way
// Nango's Express server does, and records what it received.
type fakeNango struct {
	srv         *httptest.Server
	status      int
	body        string
	contentType string

	mu   sync.Mutex
	reqs []recorded
}

// newFake starts a fake Nango answering status and body (JSON).
func newFake(t *testing.T, status int, body string) *fakeNango {
	t.Helper()
	f := &fakeNango{status: status, body: body, contentType: "application/json; charset=utf-8"}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Method: r.Method, RequestURI: r.RequestURI, Header: r.Header.Clone(), Body: string(b)})
		f.mu.Unlock()
		w.Header().Set("Content-Type", f.contentType)
		w.WriteHeader(f.status)
		io.WriteString(w, f.body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// client is a Client pointed at the fake, with a trailing slash on the
// base URL to exercise trimming.
func (f *fakeNango) client() *Client {
	return &Client{BaseURL: f.srv.URL + "/", SecretKey: testKey, HTTP: f.srv.Client()}
}

// only returns the single request received, failing otherwise.
func (f *fakeNango) only(t *testing.T) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) != 1 {
		t.Fatalf("fake Nango received %d requests, want 1", len(f.reqs))
	}
	return f.reqs[0]
}

// count is the number of requests received.
func (f *fakeNango) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// checkRequest asserts the method, request URI (path and query), the
// common headers and the exact body of a call to Nango's API.
func checkRequest(t *testing.T, got recorded, method, requestURI, body string) {
	t.Helper()
	if got.Method != method {
		t.Errorf("method = %q, want %q", got.Method, method)
	}
	if got.RequestURI != requestURI {
		t.Errorf("request URI = %q, want %q", got.RequestURI, requestURI)
	}
	if a := got.Header.Values("Authorization"); len(a) != 1 || a[0] != "Bearer "+testKey {
		t.Errorf("Authorization = %q, want Bearer <key>", a)
	}
	if ua := got.Header.Get("User-Agent"); ua != "gatehouse" {
		t.Errorf("User-Agent = %q, want gatehouse", ua)
	}
	if acc := got.Header.Get("Accept"); acc != "application/json" {
		t.Errorf("Accept = %q, want application/json", acc)
	}
	wantCT := ""
	if body != "" {
		wantCT = "application/json"
	}
	if ct := got.Header.Get("Content-Type"); ct != wantCT {
		t.Errorf("Content-Type = %q, want %q", ct, wantCT)
	}
	if got.Body != body {
		t.Errorf("body =\n%s\nwant\n%s", got.Body, body)
	}
}

// checkNoSecrets fails if err's message contains the key or a secret.
func checkNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range append([]string{testKey}, secrets...) {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error %q contains a secret", msg)
		}
	}
	if !strings.HasPrefix(msg, "nango: ") {
		t.Errorf("error %q does not start with \"nango: \"", msg)
	}
}

// answer is one answer of Nango's API to a call, and what the client must
// make of it.
type answer struct {
	name         string
	status       int
	body         string
	wantErr      bool
	wantNotFound bool
	// wantExp is a connect session's expiry.
	wantExp time.Time
}

// fake serves a as Nango would.
func (a answer) fake(t *testing.T) *fakeNango { return newFake(t, a.status, a.body) }

// check compares err with what a wants.
func (a answer) check(t *testing.T, err error) {
	t.Helper()
	if (err != nil) != a.wantErr {
		t.Fatalf("err = %v, wantErr %v", err, a.wantErr)
	}
	if IsNotFound(err) != a.wantNotFound {
		t.Errorf("IsNotFound(%v) = %v, want %v", err, !a.wantNotFound, a.wantNotFound)
	}
}
