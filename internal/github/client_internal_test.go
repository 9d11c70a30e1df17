package github

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

func TestNextLink(t *testing.T) {
	base, _ := url.Parse("https://api.example.com/api/v3")
	tests := []struct {
		name    string
		link    []string
		want    string
		wantErr bool
	}{
		{"none", nil, "", false},
		{"next and last", []string{`<https://api.example.com/api/v3/user/orgs?page=2&per_page=100>; rel="next", <https://api.example.com/api/v3/user/orgs?page=5&per_page=100>; rel="last"`},
			"https://api.example.com/api/v3/user/orgs?page=2&per_page=100", false},
		{"last page", []string{`<https://api.example.com/x?page=1>; rel="prev", <https://api.example.com/x?page=1>; rel="first"`}, "", false},
		{"unquoted rel", []string{`<https://api.example.com/x?page=3>; rel=next`}, "https://api.example.com/x?page=3", false},
		{"two header lines", []string{`<https://api.example.com/x?page=1>; rel="prev"`, `<https://api.example.com/x?page=3>; rel="next"`}, "https://api.example.com/x?page=3", false},
		{"multiple rels", []string{`<https://api.example.com/x?page=3>; rel="next last"`}, "https://api.example.com/x?page=3", false},
		{"relative", []string{`</api/v3/x?page=2>; rel="next"`}, "https://api.example.com/api/v3/x?page=2", false},
		{"other host", []string{`<https://evil.example/x?page=2>; rel="next"`}, "", true},
		{"other scheme", []string{`<http://api.example.com/x?page=2>; rel="next"`}, "", true},
		{"garbage", []string{`nonsense, <>; rel`}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, l := range tt.link {
				h.Add("Link", l)
			}
			got, err := nextLink(h, base)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("nextLink = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestClientSendsGitHubHeaders(t *testing.T) {
	var got http.Header
	var gotQuery url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, gotQuery = r.Header.Clone(), r.URL.Query()
		fmt.Fprint(w, `[]`)
	}))
	defer srv.Close()
	c := &Client{Endpoints: Endpoints{WebURL: srv.URL}}
	if _, err := c.Orgs(context.Background(), "tok123"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Authorization":        "Bearer tok123",
		"Accept":               "application/vnd.github+json",
		"X-Github-Api-Version": "2022-11-28",
		"User-Agent":           "gatehouse",
	}
	testsupport.WantEach(t, "header", want, got.Get)
	if gotQuery.Get("per_page") != "100" {
		t.Errorf("per_page = %q, want 100", gotQuery.Get("per_page"))
	}
}

func TestPaginationCappedAtMaxPages(t *testing.T) {
	var calls atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=%d>; rel="next"`, srv.URL, r.URL.Path, n+1))
		fmt.Fprintf(w, `[{"login":"org%d"}]`, n)
	}))
	defer srv.Close()
	c := &Client{Endpoints: Endpoints{WebURL: srv.URL}}
	_, err := c.Orgs(context.Background(), "tok")
	if err == nil || !strings.Contains(err.Error(), "more than 100 pages") {
		t.Fatalf("err = %v, want the page cap", err)
	}
	if n := calls.Load(); n != MaxPages {
		t.Errorf("%d requests, want %d", n, MaxPages)
	}
}

func TestNextLinkOffOriginNotFollowed(t *testing.T) {
	var evilHits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
		fmt.Fprint(w, `[]`)
	}))
	defer evil.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<`+evil.URL+`/steal?page=2>; rel="next"`)
		fmt.Fprint(w, `[]`)
	}))
	defer srv.Close()
	c := &Client{Endpoints: Endpoints{WebURL: srv.URL}}
	if _, err := c.Orgs(context.Background(), "secret-token"); err == nil {
		t.Fatal("followed a next link to another origin")
	}
	if evilHits.Load() != 0 {
		t.Error("the token was sent to another origin")
	}
}

func TestResponseBodyLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"login":"` + strings.Repeat("a", MaxResponseBytes) + `","id":1}`))
	}))
	defer srv.Close()
	c := &Client{Endpoints: Endpoints{WebURL: srv.URL}}
	if _, err := c.User(context.Background(), "tok"); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("err = %v, want the size limit", err)
	}
}

func TestErrorsNeverContainToken(t *testing.T) {
	const token = "ghu_SuperSecretTokenValue0123456789abcd"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v3/user":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Bad credentials"}`)
		case "/api/v3/user/orgs":
			fmt.Fprint(w, `not json`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	c := &Client{Endpoints: Endpoints{WebURL: srv.URL}}
	ctx := context.Background()
	_, err1 := c.User(ctx, token)
	_, err2 := c.Orgs(ctx, token)
	_, err3 := c.UserInstallationRepos(ctx, token, 7)
	_, _, err4 := c.InstallationToken(ctx, token, 7)
	for i, err := range []error{err1, err2, err3, err4} {
		if err == nil {
			t.Errorf("call %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("call %d: error contains the token: %v", i, err)
		}
	}
	srv.Close()
	if _, err := c.User(ctx, token); err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("transport error %v: nil or contains the token", err)
	}
}

func TestInvalidInstallationIDs(t *testing.T) {
	c := &Client{Endpoints: Endpoints{WebURL: "http://127.0.0.1:1"}}
	if _, err := c.UserInstallationRepos(context.Background(), "t", 0); err == nil {
		t.Error("UserInstallationRepos accepted ID 0")
	}
	if _, _, err := c.InstallationToken(context.Background(), "t", -1); err == nil {
		t.Error("InstallationToken accepted ID -1")
	}
}
