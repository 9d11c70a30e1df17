package gate

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// feature is a feature as the integrations are: routes, a sign-in of its
// own, a login hook and a re-check.
type feature struct {
	paths   []string
	signIn  string
	revoked bool
	notDue  bool
	checked int
}

func (f *feature) Routes(k kit.Kit) []kit.Route {
	var routes []kit.Route
	for _, p := range f.paths {
		routes = append(routes, kit.Route{Path: p, Serve: func(w http.ResponseWriter, r *http.Request, rest string) {
			s, _, ok := k.RequireSession(w, r)
			if ok {
				k.JSON(w, http.StatusOK, map[string]string{"user": s.UserID, "rest": rest})
			}
		}})
	}
	return routes
}

func (f *feature) SignIn() (string, string) { return f.signIn, "Feature Login" }

func (f *feature) OnLogin(_ context.Context, s *session.Session) {
	s.Groups = append(s.Groups, "hooked")
}

func (f *feature) Due(*session.Session) bool { return !f.notDue }

func (f *feature) Recheck(_ context.Context, s *session.Session) error {
	f.checked++
	if f.revoked {
		return kit.ErrRevoked
	}
	s.Groups = []string{"rechecked"}
	return nil
}

// upstreamFunc is a next handler that sees each request.
type upstreamFunc func(r *http.Request)

func (f upstreamFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	f(r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func withFeatures(fs ...kit.Feature) func(*Options) {
	return func(o *Options) { o.Features = fs }
}

// Two features serving one path is a wiring mistake that New reports,
// whether the path is exact, a family, or one of the engine's own.
func TestFeatureRoutesMayNotCollide(t *testing.T) {
	for _, paths := range [][]string{{"/x", "/x"}, {"/fam/", "/fam/"}, {"/login"}, {"/callback/"}} {
		g, _ := newTestGate(t, nil)
		opts := g.Options
		opts.Features = []kit.Feature{&feature{paths: paths[:1]}, &feature{paths: paths[1:]}}
		if _, err := New(opts); err == nil || !strings.Contains(err.Error(), "two features serve /.gatehouse"+paths[0]) {
			t.Errorf("%v: err %v", paths, err)
		}
	}
}

// A feature's routes are served under the prefix with the engine's
// session; its sign-in is offered on the chooser page.
func TestFeatureRoutesAndSignIn(t *testing.T) {
	f := &feature{paths: []string{"/feature", "/feature-family/"}, signIn: "feat"}
	g, _ := newTestGate(t, nil, withFeatures(f))
	tok, err := g.Sessions.Create(context.Background(), &session.Session{User: identity.User{UserID: "corp:1", Provider: "corp"}, Host: "app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	cookie := &http.Cookie{Name: testCookie, Value: tok}
	for path, rest := range map[string]string{"/feature": "", "/feature-family/a/b": "a/b"} {
		w := serve(t, g, newRequest("GET", "/.gatehouse"+path, false, cookie), &upstream{})
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"rest":"`+rest+`"`) {
			t.Errorf("%s: %d %s", path, w.Code, w.Body)
		}
		if w := serve(t, g, newRequest("GET", "/.gatehouse"+path, false), &upstream{}); w.Code != http.StatusUnauthorized {
			t.Errorf("%s without a session: %d", path, w.Code)
		}
	}
	w := serve(t, g, newRequest("GET", "/.gatehouse/login?rd=/x", true), &upstream{})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `/.gatehouse/login/feat?rd=%2Fx`) || !strings.Contains(w.Body.String(), "Feature Login") {
		t.Fatalf("chooser: %d %s", w.Code, w.Body)
	}
}

// A Rechecker's update reaches the upstream at once (even with the
// session's headers already made and cached) and is saved; its ErrRevoked
// ends the session.
func TestFeatureRecheck(t *testing.T) {
	f := &feature{notDue: true}
	g, _ := newTestGate(t, nil, withFeatures(f), func(o *Options) {
		ring, _ := keys.Derive(testSecret)
		o.Sessions = session.NewManager(session.Options{Store: o.Store, Ring: ring, CacheTTL: time.Minute})
	})
	tok, err := g.Sessions.Create(context.Background(), &session.Session{User: identity.User{UserID: "corp:1", Provider: "corp", Groups: []string{"before"}}, Host: "app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	cookie := &http.Cookie{Name: testCookie, Value: tok}
	var groups string
	next := upstreamFunc(func(r *http.Request) { groups = r.Header.Get("X-Auth-Groups") })
	if w := serve(t, g, newRequest("GET", "/app", false, cookie), next); w.Code != http.StatusNoContent || groups != "before" {
		t.Fatalf("before the recheck: %d groups %q", w.Code, groups)
	}
	f.notDue = false
	if w := serve(t, g, newRequest("GET", "/app", false, cookie), next); w.Code != http.StatusNoContent || groups != "rechecked" || f.checked != 1 {
		t.Fatalf("recheck: %d groups %q checked %d", w.Code, groups, f.checked)
	}
	if s, err := g.Sessions.Reload(context.Background(), tok); err != nil || len(s.Groups) != 1 || s.Groups[0] != "rechecked" {
		t.Fatalf("saved session: %+v %v", s, err)
	}
	f.revoked = true
	if w := serve(t, g, newRequest("GET", "/app", false, cookie), next); w.Code != http.StatusUnauthorized {
		t.Fatalf("revoked: %d", w.Code)
	}
	if _, err := g.Sessions.Reload(context.Background(), tok); err == nil {
		t.Fatal("the revoked session still exists")
	}
}
