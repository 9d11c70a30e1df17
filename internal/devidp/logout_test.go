package devidp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLogout(t *testing.T) {
	t.Parallel()
	srv, r := aliceApp(t)
	p := srv.Provider
	hint := idToken(t, r.login(t, srv, newFlow()))
	forged, err := p.SignUnknownKid(map[string]any{"iss": srv.URL, "aud": appID, "sub": "x"})
	if err != nil {
		t.Fatal(err)
	}
	otherIssuer, err := p.SignIDToken(map[string]any{"iss": "https://elsewhere.example", "aud": appID})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name         string
		query        url.Values
		wantStatus   int
		wantLocation string // for 302
		wantText     string // for pages
	}{
		{name: "no parameters", wantStatus: 200, wantText: "You are signed out"},
		{name: "client_id and same-origin URI", query: url.Values{"client_id": {appID}, "post_logout_redirect_uri": {"http://127.0.0.1:1/bye"}, "state": {"s1"}},
			wantStatus: 302, wantLocation: "http://127.0.0.1:1/bye?state=s1"},
		{name: "id_token_hint", query: url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"http://127.0.0.1:1/"}},
			wantStatus: 302, wantLocation: "http://127.0.0.1:1/"},
		{name: "other origin", query: url.Values{"client_id": {appID}, "post_logout_redirect_uri": {"https://evil.example/"}},
			wantStatus: 200, wantText: "Not returning to https://evil.example/"},
		{name: "other port", query: url.Values{"client_id": {appID}, "post_logout_redirect_uri": {"http://127.0.0.1:2/"}},
			wantStatus: 200, wantText: "Not returning"},
		{name: "other client's origin", query: url.Values{"client_id": {appID}, "post_logout_redirect_uri": {"http://localhost:1/spa/"}},
			wantStatus: 200, wantText: "Not returning"},
		{name: "no client", query: url.Values{"post_logout_redirect_uri": {"http://127.0.0.1:1/"}},
			wantStatus: 200, wantText: "named no client"},
		{name: "unknown client", query: url.Values{"client_id": {"nope"}, "post_logout_redirect_uri": {"http://127.0.0.1:1/"}},
			wantStatus: 400, wantText: "No client with ID"},
		{name: "forged hint", query: url.Values{"id_token_hint": {forged}, "post_logout_redirect_uri": {"http://127.0.0.1:1/"}},
			wantStatus: 400, wantText: "not issued by this provider"},
		{name: "hint from another issuer", query: url.Values{"id_token_hint": {otherIssuer}},
			wantStatus: 400, wantText: "not issued by this provider"},
		{name: "hint and mismatched client_id", query: url.Values{"id_token_hint": {hint}, "client_id": {spaID}},
			wantStatus: 400, wantText: "does not match"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := get(t, srv.URL+"/logout?"+tc.query.Encode())
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusFound {
				if got := resp.Header.Get("Location"); got != tc.wantLocation {
					t.Errorf("Location = %q, want %q", got, tc.wantLocation)
				}
				return
			}
			if resp.Header.Get("Location") != "" {
				t.Errorf("redirected to %q", resp.Header.Get("Location"))
			}
			if html := body(t, resp); !strings.Contains(html, tc.wantText) {
				t.Errorf("page lacks %q:\n%s", tc.wantText, html)
			}
		})
	}

	// POST works too.
	resp := postForm(t, srv.URL+"/logout", url.Values{"client_id": {appID}, "post_logout_redirect_uri": {"http://127.0.0.1:1/"}}, nil)
	if resp.StatusCode != http.StatusFound {
		t.Errorf("POST logout: %d", resp.StatusCode)
	}
}
