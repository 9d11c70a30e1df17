package redirect

import "testing"

// FuzzTarget checks that whatever raw is, Target returns "/" or a target
// that stays on the origin's host or an allowed host, and that validating
// the result again leaves it unchanged.
func FuzzTarget(f *testing.F) {
	for _, seed := range []string{
		"", "/", "/a/b?c=d#e", "//evil.com", `/\evil.com`, "/%2F%2Fevil.com", "/%5Cevil.com",
		"/%09/evil.com", "/./\\evil.com", "/../evil.com", "https:evil.com", "javascript:alert(1)",
		"https://app.example.com@evil.com", `https://evil.com\@app.example.com`,
		"https://app.example.com.evil.com", "https://x.apps.example.com/p?q#f",
		"HtTpS://APP.EXAMPLE.COM:443/x", "http://localhost:8080/x", "https://evil。com",
		"/café?q=é#ü", "https://[::1]:8080/",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	v, err := New([]string{"auth.example.com", ".apps.example.com"})
	if err != nil {
		f.Fatal(err)
	}
	httpsOrigin := mustURL(f, "https://app.example.com")
	devOrigin := mustURL(f, "http://localhost:8080")
	f.Fuzz(func(t *testing.T, raw string, dev bool) {
		origin := httpsOrigin
		if dev {
			origin = devOrigin
		}
		checkSafe(t, v, origin, raw, v.Target(raw, origin))
	})
}
