package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/registry"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// fakeHandler is a Gatehouse handler as the registry holds it.
type fakeHandler struct {
	sessions map[string][]session.Listed
	ended    int
}

func (f *fakeHandler) UserSessions(_ context.Context, user string) ([]session.Listed, error) {
	return f.sessions[user], nil
}

func (f *fakeHandler) EndUserSessions(_ context.Context, user string) (int, int, error) {
	n := len(f.sessions[user])
	delete(f.sessions, user)
	f.ended += n
	return n, n, nil
}

func call(t *testing.T, method, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	err := serveUserSessions(w, httptest.NewRequest(method, path, nil))
	var api caddy.APIError
	if errors.As(err, &api) {
		return api.HTTPStatus, api.Err.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	return w.Code, w.Body.String()
}

// Handlers sharing a store list the same sessions once; DELETE asks
// every handler and adds up what they ended.
func TestOverEveryHandler(t *testing.T) {
	if code, msg := call(t, http.MethodGet, "/gatehouse/users/u/sessions"); code != http.StatusNotFound || msg != "the running configuration has no gatehouse handler" {
		t.Fatalf("without a handler: %d %s", code, msg)
	}
	s := func(handle string) session.Listed {
		return session.Listed{Handle: handle, Session: &session.Session{User: identity.User{UserID: "corp:1", Provider: "corp"}}}
	}
	a := &fakeHandler{sessions: map[string][]session.Listed{"corp:1": {s("h1"), s("h2")}}}
	b := &fakeHandler{sessions: map[string][]session.Listed{"corp:1": {s("h2"), s("h3")}}}
	defer registry.Add(a)()
	defer registry.Add(b)()

	code, body := call(t, http.MethodGet, "/gatehouse/users/corp%3A1/sessions")
	var got Sessions
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil || got.UserID != "corp:1" || len(got.Sessions) != 3 {
		t.Fatalf("GET: %d %s", code, body)
	}
	if code, msg := call(t, http.MethodGet, "/gatehouse/users/corp:2/sessions"); code != http.StatusNotFound || msg == "" {
		t.Fatalf("unknown user: %d %s", code, msg)
	}
	code, body = call(t, http.MethodDelete, "/gatehouse/users/corp:1/sessions")
	var ended Ended
	if err := json.Unmarshal([]byte(body), &ended); code != 200 || err != nil || ended.Ended != 4 || a.ended != 2 || b.ended != 2 {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	if code, _ := call(t, http.MethodDelete, "/gatehouse/users/corp:1/sessions"); code != http.StatusNotFound {
		t.Fatalf("second DELETE: %d, want 404", code)
	}
}

func TestUserOf(t *testing.T) {
	for path, want := range map[string]string{
		"/gatehouse/users/corp:1/sessions":            "corp:1",
		"/gatehouse/users/corp%3A1/sessions":          "corp:1",
		"/gatehouse/users/github%3Aacme%2Fx/sessions": "github:acme/x",
		"/gatehouse/users//sessions":                  "",
		"/gatehouse/users/a/b/sessions":               "",
		"/gatehouse/users/a":                          "",
		"/gatehouse/users/a%00/sessions":              "",
	} {
		u, _ := url.Parse(path)
		got, err := userOf(u)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("userOf(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
}
