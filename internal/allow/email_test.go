package allow

import "testing"

func TestParseEmail(t *testing.T) {
	tests := []struct {
		in            string
		local, domain string
		ok            bool
	}{
		{"x@corp.com", "x", "corp.com", true},
		{"X@CORP.COM", "x", "corp.com", true},
		{"a.b+c@sub.corp.com", "a.b+c", "sub.corp.com", true},
		{"ü@corp.com", "ü", "corp.com", true},
		{"a@evil.com@corp.com", "", "", false},
		{"x@corp.com.", "", "", false},
		{"x@.corp.com", "", "", false},
		{"x@corp..com", "", "", false},
		{"@corp.com", "", "", false},
		{"x@", "", "", false},
		{"x", "", "", false},
		{"", "", "", false},
		{"x@corp.com\r\n", "", "", false},
		{"x@corp\u00a0com", "", "", false},
		{"x@corp.com\x00", "", "", false},
		{"x@corp.com\xff", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			local, domain, err := parseEmail(tt.in)
			if (err == nil) != tt.ok || local != tt.local || domain != tt.domain {
				t.Errorf("parseEmail(%q) = %q, %q, %v; want %q, %q, ok=%v", tt.in, local, domain, err, tt.local, tt.domain, tt.ok)
			}
		})
	}
}
