package usersessions_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
	"github.com/gatehouse-auth/gatehouse/internal/usersessions"
)

// fakeKit is the engine's side as far as the feature uses it: the session
// comes from the cookie "s" or an "Authorization: Bearer" header, and the
// answers are plain JSON.
type fakeKit struct {
	kit.Kit // what the feature does not use: nil
	m       *session.Manager
	revoked []string // access tokens revoked
	cleared int      // session cookies cleared
}

func (k *fakeKit) Prefix() string                  { return "/.gatehouse" }
func (k *fakeKit) Brand() pages.Brand              { return pages.Brand{} }
func (k *fakeKit) Log(*http.Request) *zap.Logger   { return zap.NewNop() }
func (k *fakeKit) SameOrigin(r *http.Request) bool { return r.Header.Get("Origin") == "" }
func (k *fakeKit) Bearer(r *http.Request) bool     { return r.Header.Get("Authorization") != "" }
func (k *fakeKit) RevokeTokens(s *session.Session) {
	k.revoked = append(k.revoked, s.AccessToken)
}
func (k *fakeKit) ClearSessionCookie(http.ResponseWriter) { k.cleared++ }

func (k *fakeKit) token(r *http.Request) string {
	if c, err := r.Cookie("s"); err == nil {
		return c.Value
	}
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func (k *fakeKit) RequireSession(w http.ResponseWriter, r *http.Request) (*session.Session, string, bool) {
	tok := k.token(r)
	s, err := k.m.Load(r.Context(), tok)
	switch {
	case errors.Is(err, session.ErrNoSession), errors.Is(err, session.ErrMalformed):
		k.JSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthenticated"})
		return nil, "", false
	case err != nil:
		k.StoreDown(w, r)
		return nil, "", false
	}
	return s, tok, true
}

// RequireForm is RequireSession and the form: the checks themselves are
// the engine's (gate.TestRequireForm) and the end-to-end tests'.
func (k *fakeKit) RequireForm(w http.ResponseWriter, r *http.Request, _ string) (*session.Session, string, bool) {
	s, tok, ok := k.RequireSession(w, r)
	if ok && r.ParseForm() != nil {
		k.Fail(w, r, kit.Problem{Status: http.StatusBadRequest, Code: "bad_form"})
		return nil, "", false
	}
	return s, tok, ok
}

func (k *fakeKit) CSRFToken(tok string) string { return k.m.CSRFToken(tok) }

func (k *fakeKit) WantsPage(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html") && !k.Bearer(r)
}

func (k *fakeKit) Fail(w http.ResponseWriter, _ *http.Request, p kit.Problem) {
	k.JSON(w, p.Status, map[string]string{"error": p.Code})
}
func (k *fakeKit) NotFound(w http.ResponseWriter, r *http.Request) {
	k.Fail(w, r, kit.Problem{Status: http.StatusNotFound, Code: "not_found"})
}
func (k *fakeKit) StoreDown(w http.ResponseWriter, r *http.Request) {
	k.Fail(w, r, kit.Problem{Status: http.StatusServiceUnavailable, Code: "store_unavailable"})
}
func (k *fakeKit) JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
func (k *fakeKit) MethodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	k.JSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed"})
}

// failingStore fails the reads of sets (the user's index) while down.
type failingStore struct {
	store.Store
	down atomic.Bool
}

func (f *failingStore) SetMembers(ctx context.Context, key string) ([]string, error) {
	if f.down.Load() {
		return nil, errors.New("store down")
	}
	return f.Store.SetMembers(ctx, key)
}

// world is the feature over a real session manager and memory store.
type world struct {
	k     *fakeKit
	st    *failingStore
	serve func(method, path, tok string, hdr map[string]string, form url.Values) *httptest.ResponseRecorder
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ring, err := keys.Derive("unit-secret-0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	st := &failingStore{Store: storetest.NewMemory(t)}
	m := session.NewManager(session.Options{Store: st, Ring: ring, KeyPrefix: "t:", Lifetime: time.Hour, IdleTimeout: time.Hour, CacheTTL: -1})
	t.Cleanup(m.Close)
	k := &fakeKit{m: m}
	routes := usersessions.New(usersessions.Options{Sessions: m}).Routes(k)
	w := &world{k: k, st: st}
	w.serve = func(method, path, tok string, hdr map[string]string, form url.Values) *httptest.ResponseRecorder {
		var body *strings.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		} else {
			body = strings.NewReader("")
		}
		r := httptest.NewRequest(method, "http://site.example/.gatehouse"+path, body)
		if form != nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if tok != "" {
			r.AddCookie(&http.Cookie{Name: "s", Value: tok})
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		path, _, _ = strings.Cut(path, "?")
		for _, rt := range routes {
			if rest, ok := strings.CutPrefix(path, rt.Path); ok && (rest == "" || strings.HasSuffix(rt.Path, "/")) {
				rt.Serve(rec, r, rest)
				return rec
			}
		}
		t.Fatalf("no route for %s", path)
		return nil
	}
	return w
}

// signIn creates a session of user with access token at.
func (w *world) signIn(t *testing.T, user, at string) string {
	t.Helper()
	tok, err := w.k.m.Create(context.Background(), &session.Session{
		User: identity.User{UserID: user, Login: user, Provider: "corp"}, AccessToken: at,
		IP: "192.0.2.7", UserAgent: "Agent/" + at,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (w *world) csrf(tok string) url.Values { return url.Values{"csrf": {w.k.m.CSRFToken(tok)}} }

func (w *world) id(t *testing.T, tok string) string {
	t.Helper()
	h := w.k.m.Handle(tok)
	if h == "" {
		t.Fatal("no handle")
	}
	return h
}

func (w *world) alive(tok string) bool {
	_, err := w.k.m.Load(context.Background(), tok)
	return err == nil
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("%d %q: %v", rec.Code, rec.Body, err)
	}
	return m
}

// The JSON list has the documented fields, times in RFC 3339 (UTC), and
// flags the session the request came with.
func TestListJSON(t *testing.T) {
	w := newWorld(t)
	one := w.signIn(t, "u1", "at-1")
	two := w.signIn(t, "u1", "at-2")
	w.signIn(t, "u2", "at-3")
	rec := w.serve("GET", "/sessions", two, nil, nil)
	var got struct{ Sessions []usersessions.Listed }
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 || len(got.Sessions) != 2 {
		t.Fatalf("list: %d %s %v", rec.Code, rec.Body, err)
	}
	for _, s := range got.Sessions {
		if _, err := time.Parse(time.RFC3339, s.CreatedAt); err != nil || !strings.HasSuffix(s.CreatedAt, "Z") {
			t.Errorf("created_at %q", s.CreatedAt)
		}
		if s.LastSeenAt != s.CreatedAt {
			t.Errorf("last_seen_at %q of a session never seen since its login, want its created_at %q", s.LastSeenAt, s.CreatedAt)
		}
		agent := "Agent/at-1"
		if s.Current {
			agent = "Agent/at-2"
		}
		if s.Current != (s.ID == w.id(t, two)) || s.UserAgent != agent || s.IP != "192.0.2.7" || s.Provider != "corp" {
			t.Errorf("listed %+v", s)
		}
		if s.ID == one || s.ID == two {
			t.Error("a token listed as an id")
		}
	}
	if rec := w.serve("POST", "/sessions", two, nil, nil); rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /sessions: %d %v", rec.Code, rec.Header())
	}
}

// Ending a session revokes its tokens only, clears the cookie only when it
// is the caller's own, and answers API clients with the count.
func TestEndRevokesTheEndedOnly(t *testing.T) {
	w := newWorld(t)
	a := w.signIn(t, "u1", "at-a")
	b := w.signIn(t, "u1", "at-b")
	c := w.signIn(t, "u1", "at-c")
	other := w.signIn(t, "u2", "at-other")

	rec := w.serve("POST", "/sessions/"+w.id(t, a)+"/end", c, map[string]string{"Accept": "application/json"}, w.csrf(c))
	if m := decode(t, rec); rec.Code != 200 || m["ended"] != float64(1) {
		t.Fatalf("end a: %d %v", rec.Code, m)
	}
	if w.alive(a) || !w.alive(b) || !w.alive(c) || strings.Join(w.k.revoked, ",") != "at-a" || w.k.cleared != 0 {
		t.Fatalf("after ending a: alive %v %v %v, revoked %v, cookies cleared %d", w.alive(a), w.alive(b), w.alive(c), w.k.revoked, w.k.cleared)
	}

	browser := map[string]string{"Accept": "text/html"}
	rec = w.serve("POST", "/sessions/end-others", c, browser, w.csrf(c))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/.gatehouse/sessions" {
		t.Fatalf("end-others from a form: %d %v", rec.Code, rec.Header())
	}
	if w.alive(b) || !w.alive(c) || !w.alive(other) || strings.Join(w.k.revoked, ",") != "at-a,at-b" || w.k.cleared != 0 {
		t.Fatalf("after end-others: revoked %v, cookies cleared %d", w.k.revoked, w.k.cleared)
	}

	rec = w.serve("POST", "/sessions/"+w.id(t, c)+"/end", c, browser, w.csrf(c))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/.gatehouse/logout" || w.k.cleared != 1 || w.alive(c) {
		t.Fatalf("ending the current session: %d %v, cookies cleared %d", rec.Code, rec.Header(), w.k.cleared)
	}
	if !w.alive(other) || strings.Join(w.k.revoked, ",") != "at-a,at-b,at-c" {
		t.Fatalf("another user's session ended, or revoked %v", w.k.revoked)
	}
}

// A store that cannot answer gives 503, never a 404 (which would say the
// session is not the user's) nor a partial success.
func TestStoreDown(t *testing.T) {
	w := newWorld(t)
	a := w.signIn(t, "u1", "at-a")
	b := w.signIn(t, "u1", "at-b")
	w.st.down.Store(true)
	for _, c := range []struct{ method, path string }{
		{"GET", "/sessions"}, {"POST", "/sessions/" + w.id(t, a) + "/end"}, {"POST", "/sessions/end-others"},
	} {
		rec := w.serve(c.method, c.path, b, nil, w.csrf(b))
		if m := decode(t, rec); rec.Code != http.StatusServiceUnavailable || m["error"] != "store_unavailable" {
			t.Errorf("%s %s with the store down: %d %v", c.method, c.path, rec.Code, m)
		}
	}
	w.st.down.Store(false)
	if !w.alive(a) || !w.alive(b) || len(w.k.revoked) != 0 {
		t.Fatalf("the store outage ended something: revoked %v", w.k.revoked)
	}
}

// A bearer client ends a session without a CSRF token; paths that name
// no session's end are not found.
func TestPaths(t *testing.T) {
	w := newWorld(t)
	a := w.signIn(t, "u1", "at-a")
	b := w.signIn(t, "u1", "at-b")
	end := "/sessions/" + w.id(t, a) + "/end"
	rec := w.serve("POST", end, "", map[string]string{"Authorization": "Bearer " + b}, nil)
	if m := decode(t, rec); rec.Code != 200 || m["ended"] != float64(1) || w.alive(a) {
		t.Fatalf("bearer without csrf: %d %v", rec.Code, m)
	}
	for _, p := range []string{"/sessions/", "/sessions/x", "/sessions/x/end/y", "/sessions//end"} {
		if rec := w.serve("POST", p, b, nil, w.csrf(b)); rec.Code != http.StatusNotFound {
			t.Errorf("POST %s: %d", p, rec.Code)
		}
	}
}
