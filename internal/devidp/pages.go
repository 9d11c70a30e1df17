package devidp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The pages are self-contained: one <style> element allowed by its hash in
// the Content-Security-Policy, an inline SVG logo, no scripts and no other
// resources.

// pageCSS is the stylesheet of every page.
const pageCSS = `
*,*::before,*::after{box-sizing:border-box}
:root{--bg:#f3f4f8;--card:#fff;--text:#1c1f2b;--muted:#646b80;--line:#e3e5ec;--hover:#f6f6fe;--accent:#4f46e5;--accent-ink:#fff;--warn-bg:#fff4dc;--warn:#8a5a00;--danger:#b42318;--shadow:0 1px 2px rgba(20,24,40,.06),0 8px 28px rgba(20,24,40,.08)}
@media (prefers-color-scheme:dark){:root{--bg:#12141c;--card:#1b1e29;--text:#e8eaf2;--muted:#9aa1b5;--line:#2d3142;--hover:#232739;--accent:#8b85ff;--accent-ink:#12141c;--warn-bg:#3a2e12;--warn:#f3c766;--danger:#ff8a80;--shadow:0 8px 28px rgba(0,0,0,.4)}}
html,body{margin:0;padding:0}
body{min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;padding:32px 16px;background:var(--bg);background-image:radial-gradient(circle at 15% 10%,rgba(99,102,241,.10),transparent 40%),radial-gradient(circle at 85% 90%,rgba(16,185,129,.08),transparent 40%);color:var(--text);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;-webkit-font-smoothing:antialiased}
main{width:100%;max-width:440px}
.brand{display:flex;align-items:center;gap:10px;margin:0 0 14px 4px;color:var(--muted);font-size:13px;font-weight:600;letter-spacing:.02em}
.brand svg{width:26px;height:26px;color:var(--accent)}
.dev{margin-left:auto;padding:2px 8px;border-radius:999px;background:var(--warn-bg);color:var(--warn);font-size:11px;font-weight:700;letter-spacing:.06em;text-transform:uppercase}
.card{background:var(--card);border:1px solid var(--line);border-radius:18px;box-shadow:var(--shadow);padding:28px}
h1{margin:0 0 4px;font-size:22px;line-height:1.3;font-weight:700;letter-spacing:-.01em}
.lead{margin:0 0 20px;color:var(--muted)}
.lead:last-child{margin-bottom:0}
.users{display:flex;flex-direction:column;gap:8px;margin:0;padding:0;border:0}
.user{display:flex;align-items:center;gap:12px;width:100%;padding:10px 12px;border:1px solid var(--line);border-radius:12px;background:transparent;color:inherit;font:inherit;text-align:left;cursor:pointer;transition:background .12s,border-color .12s}
.user:hover{background:var(--hover);border-color:var(--accent)}
.user:focus-visible,.go:focus-visible,.deny:focus-visible,input:focus-visible{outline:3px solid color-mix(in srgb,var(--accent) 45%,transparent);outline-offset:2px}
.avatar{flex:none;display:grid;place-items:center;width:40px;height:40px;border-radius:50%;color:#fff;font-weight:700;font-size:15px}
.c0{background:#6366f1}.c1{background:#0ea5e9}.c2{background:#e11d48}.c3{background:#10b981}.c4{background:#f59e0b}.c5{background:#8b5cf6}
.who{display:flex;flex-direction:column;min-width:0;flex:1}
.name{font-weight:600;display:flex;align-items:center;gap:8px}
.email{color:var(--muted);font-size:13px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.pill{padding:1px 7px;border-radius:999px;background:var(--warn-bg);color:var(--warn);font-size:11px;font-weight:600}
.arrow{color:var(--muted);font-size:18px}
.or{display:flex;align-items:center;gap:12px;margin:22px 0 14px;color:var(--muted);font-size:13px}
.or::before,.or::after{content:"";flex:1;height:1px;background:var(--line)}
label{display:block;margin:0 0 6px;font-size:13px;font-weight:600}
.row{display:flex;gap:8px}
input{flex:1;min-width:0;padding:10px 12px;border:1px solid var(--line);border-radius:10px;background:transparent;color:inherit;font:inherit}
input::placeholder{color:var(--muted)}
.go{padding:10px 16px;border:0;border-radius:10px;background:var(--accent);color:var(--accent-ink);font:inherit;font-weight:600;cursor:pointer}
.go:hover{filter:brightness(1.08)}
.hint{margin:6px 0 0;color:var(--muted);font-size:12px}
.problem{margin:0 0 14px;padding:10px 12px;border-radius:10px;background:color-mix(in srgb,var(--danger) 12%,transparent);color:var(--danger);font-size:13px}
.foot{display:flex;align-items:center;justify-content:space-between;gap:12px;margin-top:22px;padding-top:16px;border-top:1px solid var(--line);font-size:13px;color:var(--muted)}
.deny{padding:0;border:0;white-space:nowrap;background:none;color:var(--muted);font:inherit;text-decoration:underline;text-underline-offset:3px;cursor:pointer}
.deny:hover{color:var(--danger)}
.return{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.return b{color:var(--text);font-weight:600}
.note{margin:16px 0 0;font-size:13px;color:var(--muted)}
.detail{margin:0;padding:12px;border-radius:10px;background:var(--hover);font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.icon{display:grid;place-items:center;width:44px;height:44px;margin:0 0 14px;border-radius:12px;background:var(--hover);color:var(--accent)}
.icon.bad{color:var(--danger)}
.icon svg{width:24px;height:24px}
@media (max-width:420px){body{padding:20px 12px}.card{padding:22px 18px}h1{font-size:20px}}
.legal{margin:16px 0 0;text-align:center;color:var(--muted);font-size:12px}
h2{margin:22px 0 8px;font-size:15px;font-weight:700}
.list{display:flex;flex-direction:column;gap:8px;margin:0;padding:0;list-style:none}
.list li{display:flex;align-items:center;gap:12px;padding:10px 12px;border:1px solid var(--line);border-radius:12px}
`

// styleHash is the CSP source that allows pageCSS.
var styleHash = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

const pageTemplates = `
{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}} · Gatehouse dev IdP</title>
<style>{{.CSS}}</style>
</head>
<body>
<main>
<div class="brand">
<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M3 21V9l9-6 9 6v12"/><path d="M9 21v-6a3 3 0 0 1 6 0v6"/><path d="M3 21h18"/></svg>
<span>Gatehouse dev IdP</span><span class="dev" title="A local identity provider for development. It asks for no passwords.">Dev only</span>
</div>
<div class="card">
{{end}}

{{define "foot"}}</div>
<p class="legal">Local OpenID Connect provider for development only.</p>
</main>
</body>
</html>
{{end}}

{{define "signin"}}{{template "head" .}}
<h1>Sign in to {{.Client}}</h1>
<p class="lead">Pick a demo user. No password needed.</p>
{{if .Problem}}<p class="problem" role="alert">{{.Problem}}</p>{{end}}
{{if .Users}}<form method="post" action="{{.Action}}">
<input type="hidden" name="login" value="{{.LoginID}}">
<fieldset class="users">
<legend class="lead" hidden>Demo users</legend>
{{range $i, $u := .Users}}<button class="user" type="submit" name="user" value="{{$u.Username}}" aria-label="Sign in as {{$u.Label}}">
<span class="avatar c{{$u.Color}}" aria-hidden="true">{{$u.Initials}}</span>
<span class="who"><span class="name">{{$u.Name}}{{if $u.Unverified}} <span class="pill">email unverified</span>{{end}}</span>{{if $u.Email}}<span class="email">{{$u.Email}}</span>{{end}}</span>
<span class="arrow" aria-hidden="true">&rsaquo;</span>
</button>
{{end}}</fieldset>
</form>
<div class="or">or sign in as anyone</div>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="login" value="{{.LoginID}}">
<label for="username">Username</label>
<div class="row">
<input id="username" name="username" value="{{.Username}}" placeholder="e.g. carol" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="64" pattern="[A-Za-z0-9._+@\-]+">
<button class="go" type="submit">Continue</button>
</div>
<p class="hint">Any other name signs in as a new user with a verified email.</p>
</form>
<div class="foot">
<form method="post" action="{{.Action}}">
<input type="hidden" name="login" value="{{.LoginID}}">
<button class="deny" type="submit" name="action" value="deny">Cancel and deny access</button>
</form>
{{if .Return}}<span class="return">Returns to <b>{{.Return}}</b></span>{{end}}
</div>
{{template "foot"}}{{end}}

{{define "error"}}{{template "head" .}}
<div class="icon bad" aria-hidden="true"><svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><circle cx="12" cy="12" r="9"/><path d="M12 7v6M12 16.5v.5"/></svg></div>
<h1>{{.Title}}</h1>
<p class="lead">{{.Lead}}</p>
<p class="detail">{{.Detail}}</p>
{{template "foot"}}{{end}}

{{define "index"}}{{template "head" .}}
<h1>Development identity provider</h1>
<p class="lead">A local OpenID Connect provider. Applications send you here to sign in; there is nothing to do on this page, and it never asks for a password.</p>
<h2>Discovery document</h2>
<p class="detail">{{.Discovery}}</p>
<p class="note">Issuer: {{.Issuer}}</p>
<h2>Users</h2>
{{if .Users}}<ul class="list">
{{range $i, $u := .Users}}<li><span class="avatar c{{$u.Color}}" aria-hidden="true">{{$u.Initials}}</span>
<span class="who"><span class="name">{{$u.Name}} <span class="email">{{$u.Username}}</span>{{if $u.Unverified}} <span class="pill">email unverified</span>{{end}}</span>{{if $u.Email}}<span class="email">{{$u.Email}}</span>{{end}}</span></li>
{{end}}</ul>
{{if .AnyUnverified}}<p class="note">An unverified email is sent with <b>email_verified</b> false: a careful application, such as Gatehouse, does not use it (no X-Auth-Email).</p>{{end}}{{else}}<p class="lead">No users are listed.</p>{{end}}
<p class="note">Any other username typed on the sign-in page signs in as a new user with a verified email.</p>
{{if .Clients}}<h2>Applications</h2>
<ul class="list">
{{range .Clients}}<li><span class="who"><span class="name">{{.Name}}</span>{{range .RedirectURIs}}<span class="email">{{.}}</span>{{end}}{{if .Backchannel}}<span class="email">back-channel logout: {{.Backchannel}}</span>{{end}}</span></li>
{{end}}</ul>{{end}}
<h2>Sessions</h2>
{{if .Notice}}<p class="detail" role="status">{{.Notice}}</p>{{end}}
{{if .Sessions}}<ul class="list">
{{range .Sessions}}<li><span class="who"><span class="name">{{.User}}</span><span class="email">signed in to {{.Client}} at {{.Started}}</span></span>
<form method="post" action="{{$.EndAction}}"><input type="hidden" name="sid" value="{{.ID}}"><button class="deny" type="submit">End</button></form></li>
{{end}}</ul>
<p class="note">Ending a session signs the user out here and sends the application's back-channel logout, if it registered one: the application ends its own session at once.</p>{{else}}<p class="lead">Nobody is signed in.</p>{{end}}
{{template "foot"}}{{end}}

{{define "signedout"}}{{template "head" .}}
<div class="icon" aria-hidden="true"><svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M20 6 9 17l-5-5"/></svg></div>
<h1>You are signed out</h1>
<p class="lead">You can close this tab, or go back to the application and sign in again.</p>
{{if .Detail}}<p class="detail">{{.Detail}}</p>{{end}}
{{template "foot"}}{{end}}
`

// pages holds the parsed page templates.
var pages = template.Must(template.New("pages").Parse(pageTemplates))

// page is the data common to every page.
type page struct {
	Title string
	CSS   template.CSS
}

// signInData is the sign-in page's data.
type signInData struct {
	LoginID  string // parked request ID, posted back with the form
	Client   string // client display name
	Users    []User
	Username string // prefilled username (login_hint or the rejected input)
	Problem  string // why the last submission was refused
	Return   string // host the browser returns to
	target   string // redirect URI, whose origin forms may submit to
}

// signInUser is a user as shown on the sign-in page.
type signInUser struct {
	Username, Name, Email, Initials, Label string
	Unverified                             bool
	Color                                  int
}

// renderSignIn renders the sign-in page.
func (p *Provider) renderSignIn(w http.ResponseWriter, status int, d signInData) {
	users := signInUsers(d.Users)
	data := struct {
		page
		signInData
		Users  []signInUser
		Action string
	}{
		page:       page{Title: "Sign in to " + d.Client, CSS: template.CSS(pageCSS)},
		signInData: d,
		Users:      users,
		Action:     p.basePath + pathAuthorize,
	}
	p.render(w, status, "signin", data, d.target)
}

// signInUsers turns users into their entries on the sign-in and index
// pages.
func signInUsers(list []User) []signInUser {
	users := make([]signInUser, len(list))
	for i, u := range list {
		name := u.Name
		if name == "" {
			name = u.Username
		}
		label := name
		if u.Email != "" {
			label += " (" + u.Email + ")"
		}
		users[i] = signInUser{
			Username:   u.Username,
			Name:       name,
			Email:      u.Email,
			Initials:   u.initials(),
			Label:      label,
			Unverified: u.Email != "" && !u.EmailVerified,
			Color:      i % 6,
		}
	}
	return users
}

// indexClient is a registered client as shown on the index page.
type indexClient struct {
	Name         string
	RedirectURIs []string
	Backchannel  string
}

// indexSession is a session as shown on the index page.
type indexSession struct {
	ID, User, Client, Started string
}

// serveIndex serves the page at the issuer URL itself: what this server
// is, its discovery URL, its users, its clients and its sessions, for a
// person who opens the address the demo prints.
func (p *Provider) serveIndex(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	p.renderIndex(w, "")
}

// renderIndex renders the index page with notice, the outcome of what the
// person just did.
func (p *Provider) renderIndex(w http.ResponseWriter, notice string) {
	var sessions []indexSession
	for _, s := range p.Sessions() {
		sessions = append(sessions, indexSession{ID: s.ID, User: s.Username, Client: s.ClientID, Started: s.Started.Format("15:04:05")})
	}
	users := signInUsers(p.Users())
	anyUnverified := false
	for _, u := range users {
		anyUnverified = anyUnverified || u.Unverified
	}
	p.mu.Lock()
	clients := make([]indexClient, 0, len(p.clients))
	for _, c := range p.clients {
		name := c.Name
		if name == "" {
			name = c.ID
		}
		clients = append(clients, indexClient{Name: name, RedirectURIs: slices.Clone(c.RedirectURIs), Backchannel: c.BackchannelLogoutURI})
	}
	p.mu.Unlock()
	slices.SortFunc(clients, func(a, b indexClient) int { return strings.Compare(a.Name, b.Name) })
	p.render(w, http.StatusOK, "index", struct {
		page
		Issuer, Discovery string
		Users             []signInUser
		AnyUnverified     bool
		Clients           []indexClient
		Sessions          []indexSession
		Notice, EndAction string
	}{
		page:          page{Title: "Development identity provider", CSS: template.CSS(pageCSS)},
		Issuer:        p.issuer,
		Discovery:     p.endpointURL(pathDiscovery),
		Users:         users,
		AnyUnverified: anyUnverified,
		Clients:       clients,
		Sessions:      sessions,
		Notice:        notice,
		EndAction:     p.basePath + pathEndSess,
	}, "")
}

// renderError renders an error page: a title, a sentence for people and a
// technical detail.
func (p *Provider) renderError(w http.ResponseWriter, status int, title, lead, detail string) {
	p.render(w, status, "error", struct {
		page
		Lead, Detail string
	}{page: page{Title: title, CSS: template.CSS(pageCSS)}, Lead: lead, Detail: detail}, "")
}

// renderSignedOut renders the page shown after logout, with an optional
// note.
func (p *Provider) renderSignedOut(w http.ResponseWriter, note string) {
	p.render(w, http.StatusOK, "signedout", struct {
		page
		Detail string
	}{page: page{Title: "Signed out", CSS: template.CSS(pageCSS)}, Detail: note}, "")
}

// render executes the named page with data and sends it with a strict
// Content-Security-Policy; forms may also submit (and be redirected) to
// formTarget's origin.
func (p *Provider) render(w http.ResponseWriter, status int, name string, data any, formTarget string) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		p.log.Error("devidp: rendering page", "page", name, "error", err)
		http.Error(w, "rendering page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy(formTarget))
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// contentSecurityPolicy returns the policy of every page: nothing but the
// page's own stylesheet, and forms that submit only to the provider and to
// formTarget (Chrome applies form-action to the redirect that follows).
func contentSecurityPolicy(formTarget string) string {
	formAction := "'self'"
	if src := cspSource(formTarget); src != "" {
		formAction += " " + src
	}
	return strings.Join([]string{
		"default-src 'none'",
		"style-src " + styleHash,
		"img-src data:",
		"form-action " + formAction,
		"frame-ancestors 'none'",
		"base-uri 'none'",
	}, "; ")
}

// cspSource turns a URL such as "http://127.0.0.1:8080/callback" or
// "com.example.app:/callback" into a CSP source expression for its origin
// or scheme; "" when it cannot.
func cspSource(target string) string {
	if target == "" {
		return ""
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" {
		return ""
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return u.Scheme + ":"
	}
	if u.Host == "" || strings.ContainsAny(u.Host, " ;,'") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
