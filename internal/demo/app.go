package demo

import (
	"html/template"
	"net/http"
	"sort"
	"strings"
)

var appPage = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo app behind Gatehouse</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1c2330}
main{max-width:46rem;margin:3rem auto;padding:2rem;background:#fff;border:1px solid #dde1e7;border-radius:12px}
h1{font-size:1.4rem;margin-top:0} table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #eef0f3;vertical-align:top}
th{white-space:nowrap;font-weight:600} td{font-family:ui-monospace,monospace;word-break:break-all} .muted{color:#5d6675}
.note{margin-top:1rem;padding:.75rem 1rem;border-radius:8px;background:#fff6e0;color:#6b4a00}
a.button{display:inline-block;margin-top:1.25rem;padding:.55rem 1rem;border-radius:8px;background:#2f5bea;color:#fff;text-decoration:none;font-weight:600}
</style></head><body><main>
{{if .User}}<h1>Hello, {{.User}}</h1>{{else}}<h1>Public page</h1>{{end}}
<p class="muted">This small app sits behind Gatehouse. It never sees a password or an OAuth token: only these headers, set by Gatehouse.</p>
<table>{{range .Headers}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{else}}<tr><td class="muted">No identity headers on this request.</td></tr>{{end}}</table>
{{if .NoEmail}}<p class="note" id="no-email"><strong>No X-Auth-Email?</strong> The identity provider did not verify this user's email (its ID token says <code>email_verified: false</code>), and Gatehouse passes an email to the app only when the provider verified it. In the demo that is Eve.</p>{{end}}
{{if .User}}<a class="button" href="/.gatehouse/logout">Sign out</a>{{else}}<a class="button" href="/">Go to the protected page</a>{{end}}
</main></body></html>`))

type header struct{ Name, Value string }

// showHeaders renders the identity headers the request carries.
func showHeaders(w http.ResponseWriter, r *http.Request) {
	var hs []header
	for name, values := range r.Header {
		if strings.HasPrefix(name, "X-Auth-") {
			hs = append(hs, header{name, strings.Join(values, ", ")})
		}
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	user := r.Header.Get("X-Auth-User")
	_ = appPage.Execute(w, struct {
		User    string
		Headers []header
		NoEmail bool
	}{user, hs, user != "" && r.Header.Get("X-Auth-Email") == ""})
}
