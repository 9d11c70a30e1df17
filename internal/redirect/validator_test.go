package redirect

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/testcheck"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		hosts   []string
		wantErr string // "" means success; otherwise a substring of the error
	}{
		{"none", nil, ""},
		{"exact and suffix", []string{"app.example.com", ".example.com"}, ""},
		{"upper case and trailing dot", []string{"App.Example.COM.", ".Example.com."}, ""},
		{"ip literal", []string{"127.0.0.1"}, ""},
		{"underscore", []string{"my_app.internal"}, ""},
		{"empty", []string{""}, `"": empty entry`},
		{"scheme", []string{"https://app.example.com"}, `"https://app.example.com": must be a bare host name`},
		{"path", []string{"app.example.com/x"}, `"app.example.com/x": must be a bare host name`},
		{"port", []string{"app.example.com:443"}, `"app.example.com:443"`},
		{"userinfo", []string{"u@app.example.com"}, `"u@app.example.com"`},
		{"backslash", []string{`app.example.com\`}, `must be a bare host name`},
		{"wildcard", []string{"*.example.com"}, `"*.example.com": wildcards are not supported`},
		{"bare star", []string{"*"}, `wildcards`},
		{"space", []string{"app example.com"}, `"app example.com": contains whitespace`},
		{"leading space", []string{" app.example.com"}, `whitespace`},
		{"tab", []string{"app.example.com\t"}, `whitespace`},
		{"control", []string{"app\x00.example.com"}, `control`},
		{"unicode space", []string{"app\u3000example.com"}, `whitespace`},
		{"lone dot", []string{"."}, `not a valid ASCII host name`},
		{"double dot", []string{"app..example.com"}, `not a valid ASCII host name`},
		{"suffix double dot", []string{"..example.com"}, `not a valid ASCII host name`},
		{"IDN", []string{"äpp.example.com"}, `use punycode`},
		{"ideographic dot", []string{"app.example。com"}, `not a valid ASCII host name`},
		{"hyphen edge", []string{"-app.example.com"}, `not a valid ASCII host name`},
		{"second entry named", []string{"ok.example.com", "bad/entry"}, `"bad/entry"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testcheck.New(t, New, tt.hosts, tt.wantErr)
		})
	}
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
