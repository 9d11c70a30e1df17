package gate

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/allow"
	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// fakeBearer takes "good" and "outsider" for machines.
type fakeBearer struct{ forgotten []string }

func (f *fakeBearer) Authenticate(_ context.Context, raw string) (*session.Session, bool, error) {
	repo := map[string]string{"good": "acme/app", "outsider": "evil/x"}[raw]
	if repo == "" {
		return nil, false, nil
	}
	return &session.Session{User: identity.User{UserID: "ci:" + raw, Login: raw, Provider: "ci", Repos: []string{repo}},
		ExpiresAt: time.Now().Add(time.Hour)}, true, nil
}

func (f *fakeBearer) Forget(raw string) { f.forgotten = append(f.forgotten, raw) }

// A machine the allow rules admit goes upstream with its identity and
// without its token; one they refuse gets 403 and is forgotten (anyone
// may hold a valid token: it must keep no room in the verified tokens).
func TestMachineIdentity(t *testing.T) {
	fb := &fakeBearer{}
	policy, _ := allow.New([]allow.Rule{{Kind: allow.KindRepo, Values: []string{"acme/app"}}}, "ci")
	g, _ := newTestGate(t, &stubAuth{}, func(o *Options) { o.Bearer, o.Policy = fb, policy })
	for _, c := range []struct {
		tok    string
		status int
	}{{"good", 200}, {"outsider", 403}} {
		r := newRequest(http.MethodGet, "/app", false)
		r.Header.Set("Authorization", "Bearer "+c.tok)
		var seen http.Header
		w := serve(t, g, r, upstreamFunc(func(r *http.Request) { seen = r.Header.Clone() }))
		if c.status == 200 && (w.Code >= 300 || seen.Get("X-Auth-User-Id") != "ci:good" || seen.Get("Authorization") != "") {
			t.Fatalf("%s: %d, upstream saw %v", c.tok, w.Code, seen)
		}
		if c.status == 403 && (w.Code != 403 || seen != nil) {
			t.Fatalf("%s: %d, upstream saw %v", c.tok, w.Code, seen)
		}
	}
	if len(fb.forgotten) != 1 || fb.forgotten[0] != "outsider" {
		t.Fatalf("forgotten %v, want the refused token only", fb.forgotten)
	}
}
