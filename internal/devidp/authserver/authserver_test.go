package authserver

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestVerifyPKCE(t *testing.T) {
	// RFC 7636 appendix B.
	const verifier, challenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	tests := []struct {
		name, challenge, method, verifier string
		want                              bool
	}{
		{"S256", challenge, "S256", verifier, true},
		{"S256 wrong verifier", challenge, "S256", verifier + "x", false},
		{"plain", verifier, "plain", verifier, true},
		{"plain by default", verifier, "", verifier, true},
		{"no challenge", "", "", "", true},
		{"challenge without verifier", challenge, "S256", "", false},
	}
	for _, tt := range tests {
		if got := VerifyPKCE(tt.challenge, tt.method, tt.verifier); got != tt.want {
			t.Errorf("%s: VerifyPKCE = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCodesRedeem(t *testing.T) {
	now := time.Now()
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	fresh := func(s *Codes[string]) {
		s.Issue("c", &Code[string]{ClientID: "app", RedirectURI: "https://app/cb", Challenge: S256(verifier), Method: "S256",
			Expires: now.Add(time.Minute), Grant: "alice"}, now)
	}
	tests := []struct {
		name                           string
		code, client, redirect, verify string
		at                             time.Time
		want                           Problem
		spent                          bool
	}{
		{"ok", "c", "app", "https://app/cb", verifier, now, OK, true},
		{"unknown", "x", "app", "https://app/cb", verifier, now, Unknown, false},
		{"other client", "c", "spa", "https://app/cb", verifier, now, WrongClient, false},
		{"expired", "c", "app", "https://app/cb", verifier, now.Add(2 * time.Minute), Expired, true},
		{"redirect", "c", "app", "https://evil/cb", verifier, now, RedirectDiffer, true},
		{"no verifier", "c", "app", "https://app/cb", "", now, NoVerifier, true},
		{"bad verifier", "c", "app", "https://app/cb", verifier + "x", now, BadVerifier, true},
	}
	for _, tt := range tests {
		s := &Codes[string]{}
		fresh(s)
		c, got := s.Redeem(tt.code, tt.client, tt.redirect, tt.verify, tt.at)
		if got != tt.want {
			t.Errorf("%s: problem %d, want %d", tt.name, got, tt.want)
		}
		if got == OK && c.Grant != "alice" {
			t.Errorf("%s: grant %q", tt.name, c.Grant)
		}
		if _, again := s.Redeem("c", "app", "https://app/cb", verifier, now); (again == Used) != tt.spent {
			t.Errorf("%s: then %d, spent want %v", tt.name, again, tt.spent)
		}
	}
	s := &Codes[string]{RedirectOptional: true}
	fresh(s)
	if _, got := s.Redeem("c", "app", "", verifier, now); got != OK {
		t.Errorf("optional redirect_uri left out: %d", got)
	}
}

func TestRefreshTokensUse(t *testing.T) {
	now := time.Now()
	s := &RefreshTokens[int]{}
	s.Issue("r", &RefreshToken[int]{ClientID: "app", Expires: now.Add(time.Hour), Grant: 7})
	s.Issue("forever", &RefreshToken[int]{ClientID: "app"})
	for _, tt := range []struct {
		token, client string
		at            time.Time
		want          Problem
	}{
		{"r", "app", now, OK},
		{"r", "", now, OK}, // no client authentication: not checked
		{"x", "app", now, Unknown},
		{"r", "spa", now, WrongClient},
		{"r", "app", now.Add(2 * time.Hour), Expired},
		{"forever", "app", now.Add(1000 * time.Hour), OK},
	} {
		if _, got := s.Use(tt.token, tt.client, tt.at); got != tt.want {
			t.Errorf("Use(%q, %q): %d, want %d", tt.token, tt.client, got, tt.want)
		}
	}
	s.Get("r").Rotated = true
	if _, got := s.Use("r", "app", now); got != Used {
		t.Errorf("rotated: %d, want Used", got)
	}
	s.Get("r").Revoked = true
	if _, got := s.Use("r", "app", now); got != Revoked {
		t.Errorf("revoked: %d, want Revoked", got)
	}
	s.DeleteIf(func(t *RefreshToken[int]) bool { return t.Grant == 7 })
	if s.Get("r") != nil || s.Get("forever") == nil {
		t.Error("DeleteIf did not delete just the grant's tokens")
	}
}

func TestClientCredentials(t *testing.T) {
	req := func(basic [2]string, form url.Values) (*http.Request, url.Values) {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
		if basic[0] != "" {
			r.SetBasicAuth(basic[0], basic[1])
		}
		return r, form
	}
	tests := []struct {
		name   string
		basic  [2]string
		form   url.Values
		want   Credentials
		reason CredentialsProblem
	}{
		{"basic, form-urlencoded", [2]string{"my%20app", "s%3Ac"}, url.Values{}, Credentials{"my app", "s:c", AuthBasic}, CredentialsOK},
		{"post", [2]string{}, url.Values{"client_id": {"app"}, "client_secret": {"sec"}}, Credentials{"app", "sec", AuthPost}, CredentialsOK},
		{"malformed basic user", [2]string{"%zz", "s"}, url.Values{}, Credentials{Method: AuthBasic}, MalformedBasicID},
		{"two methods", [2]string{"app", "s"}, url.Values{"client_secret": {"s"}}, Credentials{"app", "s", AuthBasic}, TwoMethods},
		{"client_id differs", [2]string{"app", "s"}, url.Values{"client_id": {"other"}}, Credentials{"app", "s", AuthBasic}, IDMismatch},
	}
	for _, tt := range tests {
		got, reason := ClientCredentials(req(tt.basic, tt.form))
		if got != tt.want || reason != tt.reason {
			t.Errorf("%s: %+v %d, want %+v %d", tt.name, got, reason, tt.want, tt.reason)
		}
	}
}

func TestFailures(t *testing.T) {
	var f Failures
	f.Add("/token", 500)
	f.Add("/token", 429)
	for _, want := range []int{500, 429, 0} {
		if got, ok := f.Next("/token"); got != want || ok != (want != 0) {
			t.Errorf("Next = %d %v, want %d", got, ok, want)
		}
	}
	if _, ok := f.Next("/other"); ok {
		t.Error("a failure for a path that has none")
	}
}
