package devidp

import (
	"strings"
	"testing"
	"time"
)

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	good := func() Options {
		return Options{Issuer: "http://127.0.0.1:9000", Clients: testClients(), Key: testKey(t)}
	}
	tests := []struct {
		name    string
		edit    func(*Options)
		wantErr string // substring; "" means valid
	}{
		{"valid", func(*Options) {}, ""},
		{"https issuer with path", func(o *Options) { o.Issuer = "https://idp.example/tenant" }, ""},
		{"no issuer", func(o *Options) { o.Issuer = "" }, "issuer is required"},
		{"trailing slash", func(o *Options) { o.Issuer = "http://127.0.0.1:9000/" }, "slash"},
		{"query", func(o *Options) { o.Issuer = "http://127.0.0.1:9000?x=1" }, "query"},
		{"fragment", func(o *Options) { o.Issuer = "http://127.0.0.1:9000#x" }, "fragment"},
		{"not http", func(o *Options) { o.Issuer = "ftp://127.0.0.1" }, "http or https"},
		{"relative", func(o *Options) { o.Issuer = "/idp" }, "http or https"},
		{"credentials", func(o *Options) { o.Issuer = "http://u:p@127.0.0.1" }, "credentials"},
		{"bad alg", func(o *Options) { o.SigningAlg = "HS256" }, "not supported"},
		{"negative TTL", func(o *Options) { o.CodeTTL = -time.Second }, "negative"},
		{"duplicate client", func(o *Options) { o.Clients = append(o.Clients, o.Clients[0]) }, "twice"},
		{"client without ID", func(o *Options) { o.Clients = []Client{{RedirectURIs: []string{"http://x/cb"}}} }, "empty ID"},
		{"client without redirect URIs", func(o *Options) { o.Clients = []Client{{ID: "c"}} }, "no redirect URIs"},
		{"relative redirect URI", func(o *Options) { o.Clients = []Client{{ID: "c", RedirectURIs: []string{"/cb"}}} }, "absolute"},
		{"redirect URI with fragment", func(o *Options) { o.Clients = []Client{{ID: "c", RedirectURIs: []string{"http://x/cb#f"}}} }, "fragment"},
		{"backchannel logout URI", func(o *Options) { o.Clients[0].BackchannelLogoutURI = "http://127.0.0.1:1/bc" }, ""},
		{"relative backchannel logout URI", func(o *Options) { o.Clients[0].BackchannelLogoutURI = "/bc" }, "backchannel logout URI"},
		{"backchannel logout URI with fragment", func(o *Options) { o.Clients[0].BackchannelLogoutURI = "http://x/bc#f" }, "backchannel logout URI"},
		{"duplicate user", func(o *Options) { o.Users = []User{{Username: "a"}, {Username: "A"}} }, "twice"},
		{"user without username", func(o *Options) { o.Users = []User{{Email: "a@b"}} }, "empty username"},
		{"bad username", func(o *Options) { o.Users = []User{{Username: "a b"}} }, "may contain only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := good()
			tc.edit(&o)
			_, err := New(o)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("New: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("New: %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	p, err := New(Options{Issuer: "http://127.0.0.1:9000", Key: testKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	o := p.opts
	if o.SigningAlg != RS256 || o.CodeTTL != time.Minute || o.TokenTTL != time.Hour || o.RefreshTTL != 24*time.Hour || o.Now == nil || o.Logger == nil {
		t.Errorf("defaults = %+v", o)
	}
	users := p.Users()
	if len(users) != 3 || users[0].Username != "alice" || users[1].Username != "bob" || users[2].Username != "eve" || users[2].EmailVerified {
		t.Errorf("default users = %+v", users)
	}
}
