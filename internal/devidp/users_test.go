package devidp

import (
	"slices"
	"strings"
	"testing"
)

func TestSubjectFor(t *testing.T) {
	t.Parallel()
	a, b := SubjectFor("alice"), SubjectFor("bob")
	if a == b || a != SubjectFor("Alice") || !strings.HasPrefix(a, "u-") || strings.Contains(a, "alice") {
		t.Errorf("SubjectFor: alice %q, bob %q", a, b)
	}
}

func TestMadeUpUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		username, wantEmail, wantName string
	}{
		{"carol", "carol@example.com", "Carol"},
		{"mary-jane.watson", "mary-jane.watson@example.com", "Mary Jane Watson"},
		{"dan@corp.test", "dan@corp.test", "Dan"},
		{"x_1", "x_1@example.com", "X 1"},
		{"-", "-@example.com", ""},
	}
	for _, tc := range tests {
		u := madeUpUser(tc.username)
		if u.Username != tc.username || u.Email != tc.wantEmail || u.Name != tc.wantName || !u.EmailVerified || u.Subject != SubjectFor(tc.username) {
			t.Errorf("madeUpUser(%q) = %+v", tc.username, u)
		}
	}
}

func TestClaimsByScope(t *testing.T) {
	t.Parallel()
	u := User{Subject: "s", Username: "ann", Email: "ann@x", EmailVerified: true, Name: "Ann", Picture: "https://x/a.png", Groups: []string{"g"}, Extra: map[string]any{"tenant": "t"}}
	tests := []struct {
		scopes []string
		want   []string
	}{
		{[]string{"openid"}, []string{"sub", "tenant"}},
		{[]string{"openid", "email"}, []string{"email", "email_verified", "sub", "tenant"}},
		{[]string{"openid", "profile"}, []string{"name", "picture", "preferred_username", "sub", "tenant"}},
		{[]string{"openid", "groups"}, []string{"groups", "sub", "tenant"}},
	}
	for _, tc := range tests {
		var got []string
		for k := range u.claims(tc.scopes) {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("claims(%v) = %v, want %v", tc.scopes, got, tc.want)
		}
	}
}

func TestCheckUsername(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{
		"alice": true, "a.b_c-d+e@f": true, "": false, "a b": false, "<x>": false,
		"émile": false, strings.Repeat("a", 64): true, strings.Repeat("a", 65): false,
	} {
		if err := checkUsername(name); (err == nil) != ok {
			t.Errorf("checkUsername(%q) = %v, want ok %v", name, err, ok)
		}
	}
}
