package headers

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
)

func TestStripRemovesEveryVariant(t *testing.T) {
	s := New(names(map[string]string{"user_id": "X-Remote-User", "email": "X-Auth-Email"}))
	h := http.Header{}
	for _, k := range []string{
		"X-Auth-User-Id", "x-auth-user-id", "X_Auth_User_Id", "X-Auth_User-Id", "X-AUTH-EMAIL",
		"X-Auth-Jwt", "X-Auth-Repos", "X-Auth-Anything-New",
		"X-Remote-User", "x_remote_user", "X-REMOTE_USER",
	} {
		// Set the raw key, as Go's server does for non-canonical forms.
		h[k] = append(h[k], "spoofed", "twice")
	}
	h["Accept"] = []string{"text/html"}
	h["X-Authority"] = []string{"kept"} // not x-auth-*
	s.Strip(h)
	want := http.Header{"Accept": {"text/html"}, "X-Authority": {"kept"}}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("after Strip: %v", h)
	}
}

// names is a Names with only the given fields (by key) sent.
func names(byKey map[string]string) Names {
	var n Names
	for k, v := range byKey {
		i, ok := identity.Lookup(k)
		if !ok {
			panic(k)
		}
		n.Fields[i] = v
	}
	return n
}

// Every identity field is sent under its default header, lists
// comma-separated, with the assertion and access token when given.
func TestApplyEveryField(t *testing.T) {
	u := &identity.User{UserID: "corp:1", Login: "alice", Email: "a@example.com", Name: "Alice", Avatar: "https://a/1",
		Provider: "corp", Groups: []string{"g1", "g2"}, Repos: []string{"o/r"}, Connections: []string{"whoop", "garmin"}}
	h := http.Header{}
	n := Defaults()
	n.AccessToken = DefaultAccessToken
	set := New(n)
	set.ApplyValues(h, set.Values(u), "jwt.jwt.jwt", "at")
	want := http.Header{
		"X-Auth-User-Id": {"corp:1"}, "X-Auth-User": {"alice"}, "X-Auth-Email": {"a@example.com"}, "X-Auth-Name": {"Alice"},
		"X-Auth-Avatar": {"https://a/1"}, "X-Auth-Provider": {"corp"}, "X-Auth-Groups": {"g1,g2"}, "X-Auth-Repos": {"o/r"},
		"X-Auth-Connections": {"whoop,garmin"}, "X-Auth-Jwt": {"jwt.jwt.jwt"}, "X-Auth-Access-Token": {"at"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("Apply = %v\nwant %v", h, want)
	}
	if len(want)-2 != identity.NumFields {
		t.Fatalf("the test covers %d fields, the table has %d", len(want)-2, identity.NumFields)
	}
}

func TestApply(t *testing.T) {
	s := New(names(map[string]string{"user_id": "X-Auth-User-Id", "user": "X-Auth-User", "groups": "X-Auth-Groups", "name": "X-Auth-Name"}))
	h := http.Header{}
	s.ApplyValues(h, s.Values(&identity.User{UserID: "corp:1", Login: "alice", Email: "a@example.com", Groups: []string{"a", "b"}, Name: "Al\r\nX-Evil: 1"}), "", "")
	want := http.Header{
		"X-Auth-User-Id": {"corp:1"}, "X-Auth-User": {"alice"}, "X-Auth-Groups": {"a,b"},
		"X-Auth-Name": {"AlX-Evil: 1"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("Apply = %v", h)
	}
}

func TestStripCookies(t *testing.T) {
	cases := []struct {
		in   []string
		want []string
	}{
		{[]string{"a=1; __Host-gatehouse=tok; b=2"}, []string{"a=1; b=2"}},
		{[]string{"__Host-gatehouse=tok"}, nil},
		{[]string{"__Host-gatehouse=tok", "c=3"}, []string{"c=3"}},
		{[]string{"x__Host-gatehouse=keep; __Host-gatehouse_login=b"}, []string{"x__Host-gatehouse=keep"}},
		{[]string{"a=1"}, []string{"a=1"}},
	}
	for _, c := range cases {
		h := http.Header{"Cookie": append([]string(nil), c.in...)}
		StripCookies(h, "__Host-gatehouse", "__Host-gatehouse_login")
		if !reflect.DeepEqual(h["Cookie"], c.want) {
			t.Errorf("StripCookies(%q) = %q, want %q", c.in, h["Cookie"], c.want)
		}
	}
}

func BenchmarkStripApply(b *testing.B) {
	s := New(Defaults())
	base := http.Header{
		"Accept": {"*/*"}, "User-Agent": {"bench"}, "Cookie": {"__Host-gatehouse=x; theme=dark"},
		"Accept-Encoding": {"gzip"}, "X-Request-Id": {"abc"},
	}
	id := &identity.User{UserID: "corp:1", Login: "alice", Email: "a@example.com", Provider: "corp", Groups: []string{"eng"}}
	// The engine builds the values once per cached session.
	vals := s.Values(id)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h := base.Clone()
		s.Strip(h)
		StripCookies(h, "__Host-gatehouse", "__Host-gatehouse_login")
		s.ApplyValues(h, vals, "", "")
	}
}

func TestListsAreCapped(t *testing.T) {
	s := New(Defaults())
	var repos []string
	for i := 0; i < 500; i++ {
		repos = append(repos, "some-organization/repository-number-"+strings.Repeat("x", i%7)+string(rune('a'+i%26)))
	}
	h := http.Header{}
	s.ApplyValues(h, s.Values(&identity.User{Repos: repos, Groups: []string{"acme", "acme/team"}}), "", "")
	got := h.Get("X-Auth-Repos")
	if len(got) > MaxListBytes || len(got) < MaxListBytes-100 {
		t.Fatalf("X-Auth-Repos is %d bytes", len(got))
	}
	if h.Get("X-Auth-Repos-Truncated") != "true" {
		t.Fatal("no truncation flag")
	}
	for _, r := range strings.Split(got, ",") {
		if !strings.HasPrefix(r, "some-organization/repository-number-") {
			t.Fatalf("entry cut in the middle: %q", r)
		}
	}
	if h.Get("X-Auth-Groups") != "acme,acme/team" || h.Get("X-Auth-Groups-Truncated") != "" {
		t.Fatalf("groups: %v", h)
	}
}
