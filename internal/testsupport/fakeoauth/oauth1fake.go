package fakeoauth

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// OAuth1Fake is a fake OAuth 1.0a service provider (RFC 5849) shaped like
// Garmin Connect's OAuth 1.0a API, all served on one origin, URL. It
// verifies every signed request itself, independently of any OAuth 1
// client library:
//
//   - POST /oauth-service/oauth/request_token: signed with the consumer
//     credentials only (an oauth_token, if sent, must be empty);
//     oauth_callback is required and must be "oob" or an absolute http(s)
//     URL. Answers oauth_token, oauth_token_secret and
//     oauth_callback_confirmed=true, form-encoded.
//   - GET /oauthConfirm?oauth_token=…: the user authorization page. It
//     approves at once as the SetUser user and redirects (302) to the
//     request token's oauth_callback with oauth_token and oauth_verifier
//     added to its query. After DenyAuthorization(true) it redirects with
//     oauth_token, denied=<the request token> (as Twitter does) and
//     oauth_problem=user_refused, and no oauth_verifier; the request token
//     is dead from then on. With the "oob" callback it answers a 200 HTML
//     page that shows the verifier in <code id="oauth_verifier">. Unknown,
//     expired, denied or exchanged tokens get a 400 text/plain
//     "oauth_problem=…". Each approval issues a fresh verifier.
//   - POST /oauth-service/oauth/access_token: signed with the consumer and
//     the request token; oauth_verifier must match the last one issued (a
//     wrong verifier does not consume the request token). The request
//     token is single use and expires SetRequestTokenTTL after it was
//     issued. Answers oauth_token and oauth_token_secret, form-encoded.
//     Access tokens do not expire (Garmin's do not).
//   - GET /wellness-api/rest/user/id: a protected resource signed with the
//     consumer and an access token; answers {"userId":"<user>"}.
//
// Signed requests may carry their protocol parameters in the
// "Authorization: OAuth …" header, the application/x-www-form-urlencoded
// body or the query, but in one of them only (RFC 5849 3.5). The
// signature base string is built as RFC 5849 3.4.1 says: the upper-case
// method, the base string URI (scheme and host lower-case, default port
// omitted, the path as sent, no query) and the normalized parameters (the
// header's parameters but realm and oauth_signature, the query's and the
// form body's, each name and value percent-encoded with only unreserved
// characters left, sorted by name then value). Only HMAC-SHA1 is accepted,
// keyed with the percent-encoded consumer secret "&" token secret, and
// compared with hmac.Equal; oauth_version, when present, must be "1.0";
// oauth_timestamp must be within 5 minutes of Now; a nonce is accepted
// once per consumer and timestamp.
//
// Refusals are form-encoded bodies in the style of the OAuth Problem
// Reporting extension (oauth_problem, oauth_problem_advice, and where it
// applies oauth_parameters_absent, oauth_acceptable_timestamps or
// oauth_acceptable_versions), with status 400 for malformed requests
// (parameter_absent, parameter_rejected, signature_method_rejected,
// version_rejected) and 401, with a WWW-Authenticate: OAuth challenge, for
// the rest (consumer_key_unknown, timestamp_refused, signature_invalid,
// nonce_used, token_rejected, token_expired, token_revoked,
// verifier_invalid; and parameter_absent when no protocol parameter was
// sent at all). signature_invalid's advice shows the base string the fake
// signed, to debug a client. Checks run in this order: parameters, consumer,
// timestamp, token lookup (unknown token, or one of another consumer or
// kind: token_rejected), signature, nonce, then the token's state (a used
// or denied request token: token_rejected; expired: token_expired; a wrong
// verifier: verifier_invalid; a revoked access token: token_revoked). So a
// request with a bad signature never burns a nonce or a token.
type OAuth1Fake struct {
	// URL is the origin of every endpoint, e.g. http://127.0.0.1:1234.
	URL string

	srv *httptest.Server

	mu        sync.Mutex
	consumers map[string]string // key → secret
	user      string
	deny      bool
	ttl       time.Duration
	authserver.Clock
	requests  map[string]int
	badSigs   int
	nonces    map[string]int64 // consumer, timestamp, nonce → timestamp
	reqTokens map[string]*o1RequestToken
	access    map[string]*o1AccessToken
	issued    []*o1AccessToken // access tokens in issue order
}

// Paths of the OAuth1Fake's endpoints (Garmin Connect's).
const (
	OAuth1FakeRequestTokenPath = "/oauth-service/oauth/request_token"
	OAuth1FakeAuthorizePath    = "/oauthConfirm"
	OAuth1FakeAccessTokenPath  = "/oauth-service/oauth/access_token"
	OAuth1FakeUserIDPath       = "/wellness-api/rest/user/id"
)

// OAuth1FakeDefaultUser is the user who authorizes until SetUser (the
// shape of a Garmin user id).
const OAuth1FakeDefaultUser = "4aacafe82427c251df9c9592d0c06768"

// o1TimestampWindow is how far oauth_timestamp may be from the clock.
const o1TimestampWindow = 5 * time.Minute

// o1RequestToken is an issued request token (temporary credentials).
type o1RequestToken struct {
	token, secret, consumer, callback string
	issued                            time.Time
	verifier, user                    string // set when approved
	denied, used                      bool
}

// o1AccessToken is an issued access token (token credentials).
type o1AccessToken struct {
	token, secret, consumer, user string
	revoked                       bool
}

// NewOAuth1Fake starts a fake with no consumer (see AddConsumer), the
// default user OAuth1FakeDefaultUser, approval on, and request tokens that
// expire after 10 minutes.
func NewOAuth1Fake() *OAuth1Fake {
	f := &OAuth1Fake{
		consumers: map[string]string{},
		user:      OAuth1FakeDefaultUser,
		ttl:       10 * time.Minute,
		requests:  map[string]int{},
		nonces:    map[string]int64{},
		reqTokens: map[string]*o1RequestToken{},
		access:    map[string]*o1AccessToken{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL
	return f
}

// Close stops the fake.
func (f *OAuth1Fake) Close() { f.srv.Close() }

// AddConsumer registers a consumer key and its secret.
func (f *OAuth1Fake) AddConsumer(key, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.consumers[key] = secret
}

// SetUser sets who approves at the authorization page from now on (it
// panics on an empty id).
func (f *OAuth1Fake) SetUser(userID string) {
	if userID == "" {
		panic("fakeoauth: OAuth1Fake.SetUser with an empty user id")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.user = userID
}

// DenyAuthorization makes the authorization page refuse (on) or approve
// (off). See OAuth1Fake for the refusal's redirect.
func (f *OAuth1Fake) DenyAuthorization(on bool) { authserver.Set(&f.mu, &f.deny, on) }

// SetRequestTokenTTL sets how long request tokens live after they were
// issued (default 10 minutes). It is applied when a token is used, so it
// also shortens or lengthens the life of tokens already issued.
func (f *OAuth1Fake) SetRequestTokenTTL(d time.Duration) { authserver.Set(&f.mu, &f.ttl, d) }

// Requests returns how many requests path received (accepted or not),
// e.g. Requests(OAuth1FakeAccessTokenPath).
func (f *OAuth1Fake) Requests(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[path]
}

// BadSignatures returns how many requests were refused with
// signature_invalid.
func (f *OAuth1Fake) BadSignatures() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.badSigs
}

// RevokeAccessTokens revokes every access token issued for userID (as
// when the user disconnects the app); the resource then answers 401
// token_revoked.
func (f *OAuth1Fake) RevokeAccessTokens(userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.issued {
		if t.user == userID {
			t.revoked = true
		}
	}
}

// AccessTokens returns the live (not revoked) access tokens issued for
// userID, oldest first.
func (f *OAuth1Fake) AccessTokens(userID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, t := range f.issued {
		if t.user == userID && !t.revoked {
			out = append(out, t.token)
		}
	}
	return out
}

// serve routes one request.
func (f *OAuth1Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests[r.URL.Path]++
	f.mu.Unlock()
	authserver.Routes{
		OAuth1FakeRequestTokenPath: o1Only(http.MethodPost, f.serveRequestToken),
		OAuth1FakeAuthorizePath:    o1Only(http.MethodGet, f.serveAuthorize),
		OAuth1FakeAccessTokenPath:  o1Only(http.MethodPost, f.serveAccessToken),
		OAuth1FakeUserIDPath:       o1Only(http.MethodGet, f.serveUserID),
	}.ServeHTTP(w, r)
}

// o1Only answers 405 to requests that do not use method.
func o1Only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}

// serveRequestToken issues temporary credentials (RFC 5849 2.1).
func (f *OAuth1Fake) serveRequestToken(w http.ResponseWriter, r *http.Request) {
	req, p := o1ReadRequest(r)
	if p == nil {
		p = req.require("oauth_callback")
	}
	if p == nil && req.oauth["oauth_token"] != "" {
		p = o1Problemf(http.StatusBadRequest, "parameter_rejected", "oauth_token must not be sent for a request token")
	}
	if p == nil {
		p = o1CheckCallback(req.oauth["oauth_callback"])
	}
	if p != nil {
		f.refuse(w, p)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	consumerSecret, p := f.checkClient(req)
	if p == nil {
		p = f.checkSignature(req, consumerSecret, "")
	}
	if p != nil {
		f.refuse(w, p)
		return
	}
	t := &o1RequestToken{
		token:    authserver.UUID(),
		secret:   o1Secret(),
		consumer: req.oauth["oauth_consumer_key"],
		callback: req.oauth["oauth_callback"],
		issued:   f.Now(),
	}
	f.reqTokens[t.token] = t
	o1WriteForm(w, "oauth_token", t.token, "oauth_token_secret", t.secret, "oauth_callback_confirmed", "true")
}

// o1CheckCallback accepts "oob" or an absolute http(s) URL.
func o1CheckCallback(cb string) *o1Problem {
	if cb == "oob" {
		return nil
	}
	u, err := url.Parse(cb)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return o1Problemf(http.StatusBadRequest, "parameter_rejected", "oauth_callback must be oob or an absolute http(s) URL")
	}
	return nil
}

// serveAuthorize is the user authorization page (RFC 5849 2.2).
func (f *OAuth1Fake) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("oauth_token")
	f.mu.Lock()
	t, problem := f.reqTokens[token], ""
	switch {
	case token == "":
		problem = "parameter_absent"
	case t == nil || t.used || t.denied:
		problem = "token_rejected"
	case f.expired(t):
		problem = "token_expired"
	}
	if problem != "" {
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "oauth_problem="+problem)
		return
	}
	params := url.Values{"oauth_token": {t.token}}
	if f.deny {
		t.denied = true
		params.Set("denied", t.token)
		params.Set("oauth_problem", "user_refused")
	} else {
		t.verifier, t.user = o1Secret(), f.user
		params.Set("oauth_verifier", t.verifier)
	}
	callback := t.callback
	f.mu.Unlock()

	if callback == "oob" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if params.Has("oauth_verifier") {
			fmt.Fprintf(w, "<!doctype html><title>Authorized</title><p>Enter this code in the application: <code id=\"oauth_verifier\">%s</code></p>\n", html.EscapeString(params.Get("oauth_verifier")))
		} else {
			io.WriteString(w, "<!doctype html><title>Denied</title><p>You denied the application access.</p>\n")
		}
		return
	}
	u, _ := url.Parse(callback) // checked when the token was issued
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += params.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// serveAccessToken exchanges an approved request token for token
// credentials (RFC 5849 2.3).
func (f *OAuth1Fake) serveAccessToken(w http.ResponseWriter, r *http.Request) {
	req := f.readSigned(w, r, "oauth_token", "oauth_verifier")
	if req == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.reqTokens[req.oauth["oauth_token"]]
	p := f.checkSigned(req, "request", t != nil, func() (string, string) { return t.consumer, t.secret })
	switch {
	case p != nil:
	case t.used:
		p = o1Problemf(http.StatusUnauthorized, "token_rejected", "the request token was already exchanged")
	case t.denied:
		p = o1Problemf(http.StatusUnauthorized, "token_rejected", "the user denied the request token")
	case f.expired(t):
		p = o1Problemf(http.StatusUnauthorized, "token_expired", "the request token expired")
	case t.verifier == "" || !hmac.Equal([]byte(t.verifier), []byte(req.oauth["oauth_verifier"])):
		p = o1Problemf(http.StatusUnauthorized, "verifier_invalid", "oauth_verifier does not match")
	}
	if p != nil {
		f.refuse(w, p)
		return
	}
	t.used = true
	a := &o1AccessToken{token: authserver.UUID(), secret: o1Secret(), consumer: t.consumer, user: t.user}
	f.access[a.token] = a
	f.issued = append(f.issued, a)
	o1WriteForm(w, "oauth_token", a.token, "oauth_token_secret", a.secret)
}

// serveUserID is the protected resource GET /wellness-api/rest/user/id.
func (f *OAuth1Fake) serveUserID(w http.ResponseWriter, r *http.Request) {
	req := f.readSigned(w, r, "oauth_token")
	if req == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.access[req.oauth["oauth_token"]]
	p := f.checkSigned(req, "access", a != nil, func() (string, string) { return a.consumer, a.secret })
	if p == nil && a.revoked {
		p = o1Problemf(http.StatusUnauthorized, "token_revoked", "the access token was revoked")
	}
	if p != nil {
		f.refuse(w, p)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]string{"userId": a.user})
}

// expired reports whether t outlived the request token TTL (f.mu held).
func (f *OAuth1Fake) expired(t *o1RequestToken) bool {
	return !f.Now().Before(t.issued.Add(f.ttl))
}

// readSigned reads r as a signed request carrying the protocol parameters
// and the names given; otherwise it answers the problem and returns nil.
func (f *OAuth1Fake) readSigned(w http.ResponseWriter, r *http.Request, names ...string) *o1Request {
	req, p := o1ReadRequest(r)
	if p == nil {
		p = req.require(names...)
	}
	if p != nil {
		f.refuse(w, p)
		return nil
	}
	return req
}

// checkSigned checks req's consumer, that the kind of token it names is
// known (found) and was issued to that consumer, and req's signature;
// cred returns the token's consumer and secret, and is called only when
// found (f.mu held).
func (f *OAuth1Fake) checkSigned(req *o1Request, kind string, found bool, cred func() (consumer, secret string)) *o1Problem {
	consumerSecret, p := f.checkClient(req)
	switch {
	case p != nil:
		return p
	case found:
		if consumer, secret := cred(); consumer == req.oauth["oauth_consumer_key"] {
			return f.checkSignature(req, consumerSecret, secret)
		}
	}
	return o1Problemf(http.StatusUnauthorized, "token_rejected", "unknown "+kind+" token")
}

// checkClient checks req's consumer and timestamp and returns the
// consumer secret (f.mu held).
func (f *OAuth1Fake) checkClient(req *o1Request) (consumerSecret string, p *o1Problem) {
	consumerSecret, ok := f.consumers[req.oauth["oauth_consumer_key"]]
	if !ok {
		return "", o1Problemf(http.StatusUnauthorized, "consumer_key_unknown", "unknown oauth_consumer_key")
	}
	raw := req.oauth["oauth_timestamp"]
	ts, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || ts <= 0 || strings.HasPrefix(raw, "+") {
		return "", o1Problemf(http.StatusBadRequest, "parameter_rejected", "oauth_timestamp must be a positive integer")
	}
	now, window := f.Now().Unix(), int64(o1TimestampWindow/time.Second)
	if ts < now-window || ts > now+window {
		p := o1Problemf(http.StatusUnauthorized, "timestamp_refused", "oauth_timestamp is more than 5 minutes away from the server's clock")
		p.extra = url.Values{"oauth_acceptable_timestamps": {fmt.Sprintf("%d-%d", now-window, now+window)}}
		return "", p
	}
	return consumerSecret, nil
}

// checkSignature checks req's HMAC-SHA1 signature under consumerSecret
// and tokenSecret, then its nonce, which it records (f.mu held; the
// timestamp was checked).
func (f *OAuth1Fake) checkSignature(req *o1Request, consumerSecret, tokenSecret string) *o1Problem {
	want := o1HMACSHA1(consumerSecret, tokenSecret, req.base)
	got, err := base64.StdEncoding.DecodeString(req.oauth["oauth_signature"])
	if err != nil || !hmac.Equal(want, got) {
		f.badSigs++
		return o1Problemf(http.StatusUnauthorized, "signature_invalid", "the signature does not match the signature base string "+req.base)
	}
	ts, _ := strconv.ParseInt(req.oauth["oauth_timestamp"], 10, 64)
	oldest := f.Now().Unix() - int64(o1TimestampWindow/time.Second)
	for k, t := range f.nonces { // older ones are refused anyway
		if t < oldest {
			delete(f.nonces, k)
		}
	}
	key := req.oauth["oauth_consumer_key"] + "\x00" + req.oauth["oauth_timestamp"] + "\x00" + req.oauth["oauth_nonce"]
	if _, used := f.nonces[key]; used {
		return o1Problemf(http.StatusUnauthorized, "nonce_used", "oauth_nonce was already used with this oauth_timestamp")
	}
	f.nonces[key] = ts
	return nil
}

// refuse writes p.
func (f *OAuth1Fake) refuse(w http.ResponseWriter, p *o1Problem) {
	if p.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`OAuth realm="%s", oauth_problem="%s"`, f.URL, p.problem))
	}
	v := url.Values{"oauth_problem": {p.problem}, "oauth_problem_advice": {p.advice}}
	for k, vs := range p.extra {
		v[k] = vs
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
	w.WriteHeader(p.status)
	_, _ = io.WriteString(w, v.Encode())
}
