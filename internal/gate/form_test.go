package gate

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// formFeature acts on a form through kit.RequireForm.
type formFeature struct{ acted int }

func (f *formFeature) Routes(k kit.Kit) []kit.Route {
	return []kit.Route{{Path: "/act", Serve: func(w http.ResponseWriter, r *http.Request, _ string) {
		if _, _, ok := k.RequireForm(w, r, "/retry"); ok {
			f.acted++
			k.JSON(w, http.StatusOK, map[string]bool{"acted": true})
		}
	}}}
}

// RequireForm holds a feature's form to the sign-out form's checks, in
// that order: same origin, a session, a readable form of bounded size,
// and the session's CSRF token in the body (not the query) unless the
// session came as a bearer token.
func TestRequireForm(t *testing.T) {
	f := &formFeature{}
	g, _ := newTestGate(t, &stubAuth{}, withFeatures(f))
	ctx := context.Background()
	a, _ := g.Sessions.Create(ctx, &session.Session{User: identity.User{UserID: "corp:1"}, Host: "app.example.com"})
	b, _ := g.Sessions.Create(ctx, &session.Session{User: identity.User{UserID: "corp:1"}, Host: "app.example.com"})
	post := func(tok string, bearer bool, hdr map[string]string, query string, form url.Values) (int, string) {
		r := newRequest(http.MethodPost, "/.gatehouse/act"+query, false)
		r.Body = http.NoBody
		if form != nil {
			r.Body = io.NopCloser(strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if bearer {
			r.Header.Set("Authorization", "Bearer "+tok)
		} else if tok != "" {
			r.AddCookie(&http.Cookie{Name: testCookie, Value: tok})
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := serve(t, g, r, nil)
		var m map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &m)
		code, _ := m["error"].(string)
		return w.Code, code
	}
	csrf := url.Values{"csrf": {g.Sessions.CSRFToken(a)}}
	for name, c := range map[string]struct {
		tok    string
		bearer bool
		hdr    map[string]string
		query  string
		form   url.Values
		status int
		code   string
	}{
		"cross-origin":             {a, false, map[string]string{"Origin": "https://evil.example"}, "", csrf, 403, "cross_origin"},
		"cross-site fetch":         {a, false, map[string]string{"Sec-Fetch-Site": "cross-site"}, "", csrf, 403, "cross_origin"},
		"cross-origin bearer":      {a, true, map[string]string{"Origin": "https://evil.example"}, "", nil, 403, "cross_origin"},
		"no session":               {"", false, nil, "", csrf, 401, "unauthenticated"},
		"no csrf":                  {a, false, nil, "", url.Values{}, 403, "invalid_csrf"},
		"another session's csrf":   {b, false, nil, "", csrf, 403, "invalid_csrf"},
		"csrf in the query":        {a, false, nil, "?csrf=" + url.QueryEscape(csrf.Get("csrf")), url.Values{}, 403, "invalid_csrf"},
		"an oversized form":        {a, false, nil, "", url.Values{"csrf": csrf["csrf"], "pad": {strings.Repeat("x", 9<<10)}}, 400, "bad_form"},
		"the session's own token":  {a, false, nil, "", csrf, 200, ""},
		"a bearer needs no token":  {b, true, nil, "", nil, 200, ""},
		"same-origin, with Origin": {a, false, map[string]string{"Origin": testOrigin}, "", csrf, 200, ""},
	} {
		before := f.acted
		status, code := post(c.tok, c.bearer, c.hdr, c.query, c.form)
		acted := f.acted > before
		if status != c.status || code != c.code || acted != (c.status == 200) {
			t.Errorf("%s: %d %q (acted %v), want %d %q", name, status, code, acted, c.status, c.code)
		}
	}
}
