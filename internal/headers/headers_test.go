package headers

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestStripRemovesEveryVariant(t *testing.T) {
	s := New(Names{UserID: "X-Remote-User", Email: "X-Auth-Email"})
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

func TestApply(t *testing.T) {
	s := New(Names{UserID: "X-Auth-User-Id", User: "X-Auth-User", Email: "", Groups: "X-Auth-Groups", Name: "X-Auth-Name"})
	h := http.Header{}
	s.Apply(h, Identity{UserID: "corp:1", User: "alice", Email: "a@example.com", Groups: []string{"a", "b"}, Name: "Al\r\nX-Evil: 1"})
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
	s := New(Defaults)
	base := http.Header{
		"Accept": {"*/*"}, "User-Agent": {"bench"}, "Cookie": {"__Host-gatehouse=x; theme=dark"},
		"Accept-Encoding": {"gzip"}, "X-Request-Id": {"abc"},
	}
	id := Identity{UserID: "corp:1", User: "alice", Email: "a@example.com", Provider: "corp", Groups: []string{"eng"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h := base.Clone()
		s.Strip(h)
		StripCookies(h, "__Host-gatehouse", "__Host-gatehouse_login")
		s.Apply(h, id)
	}
}

func TestListsAreCapped(t *testing.T) {
	s := New(Defaults)
	var repos []string
	for i := 0; i < 500; i++ {
		repos = append(repos, "some-organization/repository-number-"+strings.Repeat("x", i%7)+string(rune('a'+i%26)))
	}
	h := http.Header{}
	s.Apply(h, Identity{Repos: repos, Groups: []string{"acme", "acme/team"}})
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
