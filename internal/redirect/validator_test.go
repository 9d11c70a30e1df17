package redirect

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/testcheck"
)

func TestNew(t *testing.T) {
	testcheck.NewCases(t, New, []testcheck.NewCase[[]string]{
		{Name: "none"},
		{Name: "exact and suffix", In: []string{"app.example.com", ".example.com"}},
		{Name: "upper case and trailing dot", In: []string{"App.Example.COM.", ".Example.com."}},
		{Name: "ip literal", In: []string{"127.0.0.1"}},
		{Name: "underscore", In: []string{"my_app.internal"}},
		{Name: "empty", In: []string{""}, WantErr: `"": empty entry`},
		{Name: "scheme", In: []string{"https://app.example.com"}, WantErr: `"https://app.example.com": must be a bare host name`},
		{Name: "path", In: []string{"app.example.com/x"}, WantErr: `"app.example.com/x": must be a bare host name`},
		{Name: "port", In: []string{"app.example.com:443"}, WantErr: `"app.example.com:443"`},
		{Name: "userinfo", In: []string{"u@app.example.com"}, WantErr: `"u@app.example.com"`},
		{Name: "backslash", In: []string{`app.example.com\`}, WantErr: `must be a bare host name`},
		{Name: "wildcard", In: []string{"*.example.com"}, WantErr: `"*.example.com": wildcards are not supported`},
		{Name: "bare star", In: []string{"*"}, WantErr: `wildcards`},
		{Name: "space", In: []string{"app example.com"}, WantErr: `"app example.com": contains whitespace`},
		{Name: "leading space", In: []string{" app.example.com"}, WantErr: `whitespace`},
		{Name: "tab", In: []string{"app.example.com\t"}, WantErr: `whitespace`},
		{Name: "control", In: []string{"app\x00.example.com"}, WantErr: `control`},
		{Name: "unicode space", In: []string{"app\u3000example.com"}, WantErr: `whitespace`},
		{Name: "lone dot", In: []string{"."}, WantErr: `not a valid ASCII host name`},
		{Name: "double dot", In: []string{"app..example.com"}, WantErr: `not a valid ASCII host name`},
		{Name: "suffix double dot", In: []string{"..example.com"}, WantErr: `not a valid ASCII host name`},
		{Name: "IDN", In: []string{"äpp.example.com"}, WantErr: `use punycode`},
		{Name: "ideographic dot", In: []string{"app.example。com"}, WantErr: `not a valid ASCII host name`},
		{Name: "hyphen edge", In: []string{"-app.example.com"}, WantErr: `not a valid ASCII host name`},
		{Name: "second entry named", In: []string{"ok.example.com", "bad/entry"}, WantErr: `"bad/entry"`},
	})
}

func TestAllowed(t *testing.T) {
	v := mustNew(t, "App.Example.com.", ".corp.example")
	tests := []struct {
		host string
		want bool
	}{
		{"app.example.com", true},
		{"x.app.example.com", false},
		{"evilapp.example.com", false},
		{"app.example.com.evil.com", false},
		{"example.com", false},
		{"a.corp.example", true},
		{"a.b.corp.example", true},
		{"corp.example", false},
		{"xcorp.example", false},
		{".corp.example", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := v.allowed(tt.host); got != tt.want {
			t.Errorf("allowed(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
	var nilV *Validator
	if nilV.allowed("app.example.com") {
		t.Error("nil validator allowed a host")
	}
}
