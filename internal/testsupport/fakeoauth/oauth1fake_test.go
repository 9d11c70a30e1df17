package fakeoauth

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dghubble/oauth1"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

const (
	o1TestKey = "gatehouse-consumer"
	// o1TestSecret has characters the signing key must percent-encode.
	o1TestSecret   = "c0n sumer&secret~+/="
	o1TestCallback = "https://app.example/oauth1/callback?x=1"
)

func newO1Fake(t *testing.T) *OAuth1Fake {
	t.Helper()
	f := NewOAuth1Fake()
	t.Cleanup(f.Close)
	f.AddConsumer(o1TestKey, o1TestSecret)
	return f
}

// The test's own signer, written apart from the fake's: RFC 3986
// encoding from url.QueryEscape, and a sort of (name, value) pairs.

// o1TestEncode percent-encodes s as RFC 5849 3.6 says.
func o1TestEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// o1TestBase is the signature base string of a request to rawURL whose
// other parameters (protocol and form body) are params.
func o1TestBase(method, rawURL string, params url.Values) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	type pair struct{ k, v string }
	var pairs []pair
	add := func(vs url.Values) {
		for k, list := range vs {
			for _, v := range list {
				if k != "oauth_signature" && k != "realm" {
					pairs = append(pairs, pair{o1TestEncode(k), o1TestEncode(v)})
				}
			}
		}
	}
	add(u.Query())
	add(params)
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var norm []string
	for _, p := range pairs {
		norm = append(norm, p.k+"="+p.v)
	}
	host := strings.ToLower(u.Host)
	if (u.Scheme == "http" && u.Port() == "80") || (u.Scheme == "https" && u.Port() == "443") {
		host = strings.ToLower(u.Hostname())
	}
	base := strings.ToLower(u.Scheme) + "://" + host + u.EscapedPath()
	return strings.ToUpper(method) + "&" + o1TestEncode(base) + "&" + o1TestEncode(strings.Join(norm, "&"))
}

// o1TestSign is the base64 HMAC-SHA1 of base.
func o1TestSign(base, consumerSecret, tokenSecret string) string {
	mac := hmac.New(sha1.New, []byte(o1TestEncode(consumerSecret)+"&"+o1TestEncode(tokenSecret)))
	io.WriteString(mac, base)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func o1TestNonce() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// o1Call is one signed request to the fake.
type o1Call struct {
	method, path string // path may carry a query
	// oauth are protocol parameters; oauth_consumer_key, _signature_method,
	// _timestamp (the fake's clock), _nonce and _version are added unless
	// present; a present key with no value is left out.
	oauth url.Values
	form  url.Values // sent as an application/x-www-form-urlencoded body
	// place is where the protocol parameters go: "header" (default),
	// "body" or "query".
	place                       string
	consumerSecret, tokenSecret string // consumerSecret defaults to o1TestSecret
	// sign replaces o1TestSign's base string, to sign a wrong one.
	sign func(base string) string
	// edit changes the request after signing.
	edit func(*http.Request)
}

// o1Do sends c and returns the status and the form-decoded body.
func o1Do(t *testing.T, f *OAuth1Fake, c o1Call) (int, url.Values, string) {
	t.Helper()
	oauth := url.Values{}
	for k, v := range c.oauth {
		oauth[k] = v
	}
	defaults := map[string]string{
		"oauth_consumer_key":     o1TestKey,
		"oauth_signature_method": "HMAC-SHA1",
		"oauth_timestamp":        strconv.FormatInt(f.Now().Unix(), 10),
		"oauth_nonce":            o1TestNonce(),
		"oauth_version":          "1.0",
	}
	for k, v := range defaults {
		if _, ok := oauth[k]; !ok {
			oauth.Set(k, v)
		}
	}
	for k, v := range oauth {
		if len(v) == 0 {
			delete(oauth, k)
		}
	}
	if c.method == "" {
		c.method = http.MethodPost
	}
	if c.consumerSecret == "" {
		c.consumerSecret = o1TestSecret
	}
	rawURL := f.URL + c.path
	signed := url.Values{}
	for k, v := range oauth {
		signed[k] = v
	}
	for k, v := range c.form {
		signed[k] = append(signed[k], v...)
	}
	base := o1TestBase(c.method, rawURL, signed)
	if _, ok := oauth["oauth_signature"]; !ok {
		if c.sign != nil {
			oauth.Set("oauth_signature", c.sign(base))
		} else {
			oauth.Set("oauth_signature", o1TestSign(base, c.consumerSecret, c.tokenSecret))
		}
	}
	form := url.Values{}
	for k, v := range c.form {
		form[k] = v
	}
	switch c.place {
	case "body":
		for k, v := range oauth {
			form[k] = append(form[k], v...)
		}
	case "query":
		sep := "?"
		if strings.Contains(rawURL, "?") {
			sep = "&"
		}
		rawURL += sep + oauth.Encode()
	}
	var body io.Reader
	if len(form) > 0 {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(c.method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.place == "" || c.place == "header" {
		parts := []string{`realm="` + f.URL + `"`}
		for k, v := range oauth {
			for _, x := range v {
				parts = append(parts, o1TestEncode(k)+`="`+o1TestEncode(x)+`"`)
			}
		}
		req.Header.Set("Authorization", "OAuth "+strings.Join(parts, ", "))
	}
	if c.edit != nil {
		c.edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	v, _ := url.ParseQuery(string(b))
	return resp.StatusCode, v, string(b)
}

// o1Want checks a refusal.
func o1Want(t *testing.T, what string, status int, v url.Values, body string, wantStatus int, problem string) {
	t.Helper()
	if status != wantStatus || v.Get("oauth_problem") != problem {
		t.Fatalf("%s: %d %s, want %d oauth_problem=%s", what, status, body, wantStatus, problem)
	}
}

// o1GetRequestToken asks for a request token with callback.
func o1GetRequestToken(t *testing.T, f *OAuth1Fake, callback string) (token, secret string) {
	t.Helper()
	status, v, body := o1Do(t, f, o1Call{path: OAuth1FakeRequestTokenPath, oauth: url.Values{"oauth_callback": {callback}}})
	if status != http.StatusOK || v.Get("oauth_token") == "" || v.Get("oauth_token_secret") == "" || v.Get("oauth_callback_confirmed") != "true" {
		t.Fatalf("request_token: %d %s", status, body)
	}
	return v.Get("oauth_token"), v.Get("oauth_token_secret")
}

// o1Authorize visits the authorization page and returns the redirect's
// query (callback o1TestCallback).
func o1Authorize(t *testing.T, f *OAuth1Fake, token string) url.Values {
	t.Helper()
	loc := testsupport.Redirected(t, f.URL+OAuth1FakeAuthorizePath+"?oauth_token="+url.QueryEscape(token))
	if !strings.HasPrefix(loc.String(), "https://app.example/oauth1/callback?x=1&") {
		t.Fatalf("redirected to %s", loc)
	}
	q := loc.Query()
	if q.Get("oauth_token") != token {
		t.Fatalf("callback oauth_token = %q, want %q", q.Get("oauth_token"), token)
	}
	return q
}

// o1Exchange posts to the access token endpoint.
func o1Exchange(t *testing.T, f *OAuth1Fake, token, secret, verifier string) (int, url.Values, string) {
	t.Helper()
	return o1Do(t, f, o1Call{path: OAuth1FakeAccessTokenPath, oauth: url.Values{"oauth_token": {token}, "oauth_verifier": {verifier}}, tokenSecret: secret})
}

// o1Approved runs the flow up to an approved request token.
func o1Approved(t *testing.T, f *OAuth1Fake) (token, secret, verifier string) {
	t.Helper()
	token, secret = o1GetRequestToken(t, f, o1TestCallback)
	verifier = o1Authorize(t, f, token).Get("oauth_verifier")
	if verifier == "" {
		t.Fatal("no oauth_verifier")
	}
	return token, secret, verifier
}

// o1AccessFor runs the whole flow and returns access credentials.
func o1AccessFor(t *testing.T, f *OAuth1Fake) (token, secret string) {
	t.Helper()
	rt, rs, verifier := o1Approved(t, f)
	status, v, body := o1Exchange(t, f, rt, rs, verifier)
	if status != http.StatusOK || v.Get("oauth_token") == "" || v.Get("oauth_token_secret") == "" {
		t.Fatalf("access_token: %d %s", status, body)
	}
	return v.Get("oauth_token"), v.Get("oauth_token_secret")
}

// o1GetUserID calls the protected resource.
func o1GetUserID(t *testing.T, f *OAuth1Fake, token, secret string) (int, url.Values, string) {
	t.Helper()
	return o1Do(t, f, o1Call{method: http.MethodGet, path: OAuth1FakeUserIDPath, oauth: url.Values{"oauth_token": {token}}, tokenSecret: secret})
}

func o1WantUser(t *testing.T, status int, body, user string) {
	t.Helper()
	var got struct {
		UserID string `json:"userId"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || got.UserID != user {
		t.Fatalf("user id: %d %s, want userId %s", status, body, user)
	}
}

// TestOAuth1FakeReferenceVectors checks the fake's base strings and
// signatures, and the test's signer, against published examples.
func TestOAuth1FakeReferenceVectors(t *testing.T) {
	parse := func(raw string) *http.Request {
		head, body, _ := strings.Cut(raw, "\n\n")
		if body != "" {
			head += "\nContent-Length: " + strconv.Itoa(len(body))
		}
		raw = strings.ReplaceAll(head, "\n", "\r\n") + "\r\n\r\n" + body
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// RFC 5849 3.4.1.1 (duplicates, encoded query, body with "+", realm).
	r := parse(`POST /request?b5=%3D%253D&a3=a&c%40=&a2=r%20b HTTP/1.1
Host: example.com
Content-Type: application/x-www-form-urlencoded
Authorization: OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"

c2&a3=2+q`)
	req, p := o1ReadRequest(r)
	if p != nil {
		t.Fatalf("RFC 5849 3.4.1.1: %+v", p)
	}
	const rfcBase = "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
	if req.base != rfcBase {
		t.Errorf("RFC 5849 3.4.1.1 base string:\n got %s\nwant %s", req.base, rfcBase)
	}
	if b, _ := io.ReadAll(r.Body); string(b) != "c2&a3=2+q" {
		t.Errorf("body not kept: %q", b)
	}
	if got := o1TestBase("POST", "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b", url.Values{
		"c2": {""}, "a3": {"2 q"}, "oauth_consumer_key": {"9djdj82h48djs9d2"}, "oauth_token": {"kkk9d7dh3k39sjv7"},
		"oauth_signature_method": {"HMAC-SHA1"}, "oauth_timestamp": {"137131201"}, "oauth_nonce": {"7d8f3e4a"},
	}); got != rfcBase {
		t.Errorf("test signer's RFC 5849 3.4.1.1 base string:\n got %s\nwant %s", got, rfcBase)
	}

	// RFC 5849 1.2, the protected resource request, with port 80 given.
	r = parse(`GET /photos?file=vacation.jpg&size=original HTTP/1.1
Host: Photos.Example.NET:80
Authorization: OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_token="nnch734d00sl2jdk", oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131202", oauth_nonce="chapoH", oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"

`)
	req, p = o1ReadRequest(r)
	if p != nil {
		t.Fatalf("RFC 5849 1.2: %+v", p)
	}
	if !strings.HasPrefix(req.base, "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26") {
		t.Errorf("RFC 5849 1.2 base string %s", req.base)
	}
	if got := base64.StdEncoding.EncodeToString(o1HMACSHA1("kd94hf93k423kf44", "pfkkdhi9sl3r4s00", req.base)); got != req.oauth["oauth_signature"] || got != "MdpQcU8iPSUjWoN/UDMsK2sui9I=" {
		t.Errorf("RFC 5849 1.2 signature %s", got)
	}

	// Twitter's "Creating a signature" example (https, form body).
	r = parse(`POST /1/statuses/update.json?include_entities=true HTTP/1.1
Host: api.twitter.com
Content-Type: application/x-www-form-urlencoded; charset=utf-8
Authorization: OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", oauth_signature="tnnArxj06cWHq44gCs1OSKk%2FjLY%3D", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1318622958", oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0"

status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21`)
	r.TLS = &tls.ConnectionState{}
	req, p = o1ReadRequest(r)
	if p != nil {
		t.Fatalf("Twitter: %+v", p)
	}
	const twBase = "POST&https%3A%2F%2Fapi.twitter.com%2F1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
	if req.base != twBase {
		t.Errorf("Twitter base string:\n got %s\nwant %s", req.base, twBase)
	}
	const twCS, twTS, twSig = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw", "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE", "tnnArxj06cWHq44gCs1OSKk/jLY="
	if got := base64.StdEncoding.EncodeToString(o1HMACSHA1(twCS, twTS, req.base)); got != twSig {
		t.Errorf("Twitter signature %s, want %s", got, twSig)
	}
	if got := o1TestSign(twBase, twCS, twTS); got != twSig {
		t.Errorf("test signer's Twitter signature %s, want %s", got, twSig)
	}

	// The method is upper-cased.
	if got := o1SignatureBase("post", "http://example.com/", nil); got != "POST&http%3A%2F%2Fexample.com%2F&" {
		t.Errorf("lower-case method: %s", got)
	}

	// Encoding: only unreserved characters stay; UTF-8 bytes, upper hex.
	if got, want := o1Encode("a-._~ +*/%é"), "a-._~%20%2B%2A%2F%25%C3%A9"; got != want {
		t.Errorf("o1Encode = %s, want %s", got, want)
	}
}

// TestOAuth1FakeFlowWithLibrary runs the whole flow with
// github.com/dghubble/oauth1, the client Gatehouse uses.
func TestOAuth1FakeFlowWithLibrary(t *testing.T) {
	f := newO1Fake(t)
	f.SetUser("garmin-user-7")
	cfg := &oauth1.Config{
		ConsumerKey:    o1TestKey,
		ConsumerSecret: o1TestSecret,
		CallbackURL:    o1TestCallback,
		Endpoint: oauth1.Endpoint{
			RequestTokenURL: f.URL + OAuth1FakeRequestTokenPath,
			AuthorizeURL:    f.URL + OAuth1FakeAuthorizePath,
			AccessTokenURL:  f.URL + OAuth1FakeAccessTokenPath,
		},
	}
	rt, rs, err := cfg.RequestToken()
	if err != nil {
		t.Fatal(err)
	}
	authURL, err := cfg.AuthorizationURL(rt)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := testsupport.Fetch(t, http.MethodGet, authURL.String(), nil, "")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d", resp.StatusCode)
	}
	cb, err := http.NewRequest(http.MethodGet, resp.Header.Get("Location"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cb.URL.Query().Get("x") != "1" {
		t.Errorf("callback lost its query: %s", cb.URL)
	}
	gotRT, verifier, err := oauth1.ParseAuthorizationCallback(cb)
	if err != nil || gotRT != rt {
		t.Fatalf("callback %s: %v", cb.URL, err)
	}
	at, as, err := cfg.AccessToken(rt, rs, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.AccessTokens("garmin-user-7"); len(got) != 1 || got[0] != at {
		t.Errorf("AccessTokens = %v, want [%s]", got, at)
	}
	client := cfg.Client(context.Background(), oauth1.NewToken(at, as))
	// Query parameters are signed too: a name that is a prefix of another
	// and characters that need encoding.
	resp, err = client.Get(f.URL + OAuth1FakeUserIDPath + "?a2=x&a=y+z&b=%7E%21%2A")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	o1WantUser(t, resp.StatusCode, string(body), "garmin-user-7")
	if f.BadSignatures() != 0 {
		t.Errorf("BadSignatures = %d", f.BadSignatures())
	}
	for path, n := range map[string]int{OAuth1FakeRequestTokenPath: 1, OAuth1FakeAuthorizePath: 1, OAuth1FakeAccessTokenPath: 1, OAuth1FakeUserIDPath: 1} {
		if got := f.Requests(path); got != n {
			t.Errorf("Requests(%s) = %d, want %d", path, got, n)
		}
	}

	// The same exchange again: the request token is single use.
	if _, _, err := cfg.AccessToken(rt, rs, verifier); err == nil || !strings.Contains(err.Error(), "token_rejected") {
		t.Errorf("second exchange: %v, want 401 token_rejected", err)
	}
	// A wrong consumer secret.
	bad := *cfg
	bad.ConsumerSecret = "nope"
	if _, _, err := bad.RequestToken(); err == nil || !strings.Contains(err.Error(), "signature_invalid") {
		t.Errorf("wrong consumer secret: %v", err)
	}
	if f.BadSignatures() != 1 {
		t.Errorf("BadSignatures = %d, want 1", f.BadSignatures())
	}
	// The client signs with the real time: 6 minutes on, it is refused.
	f.Advance(6 * time.Minute)
	resp, err = client.Get(f.URL + OAuth1FakeUserIDPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "oauth_problem=timestamp_refused") || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "OAuth ") {
		t.Errorf("after Advance: %d %s", resp.StatusCode, body)
	}
}

// TestOAuth1FakeFlowParamPlaces runs the flow with the protocol
// parameters in the header, the form body and the query.
func TestOAuth1FakeFlowParamPlaces(t *testing.T) {
	for _, place := range []string{"header", "body", "query"} {
		t.Run(place, func(t *testing.T) {
			f := newO1Fake(t)
			status, v, body := o1Do(t, f, o1Call{path: OAuth1FakeRequestTokenPath, place: place,
				oauth: url.Values{"oauth_callback": {o1TestCallback}}, form: url.Values{"extra": {"a b", "a+b"}}})
			if status != http.StatusOK {
				t.Fatalf("request_token: %d %s", status, body)
			}
			rt, rs := v.Get("oauth_token"), v.Get("oauth_token_secret")
			verifier := o1Authorize(t, f, rt).Get("oauth_verifier")
			status, v, body = o1Do(t, f, o1Call{path: OAuth1FakeAccessTokenPath + "?q=1&q=0", place: place,
				oauth: url.Values{"oauth_token": {rt}, "oauth_verifier": {verifier}}, tokenSecret: rs})
			if status != http.StatusOK {
				t.Fatalf("access_token: %d %s", status, body)
			}
			status, _, body = o1Do(t, f, o1Call{method: http.MethodGet, path: OAuth1FakeUserIDPath + "?z=%E2%98%83&a=1&a=&a=%20", place: place,
				oauth: url.Values{"oauth_token": {v.Get("oauth_token")}}, tokenSecret: v.Get("oauth_token_secret")})
			o1WantUser(t, status, body, OAuth1FakeDefaultUser)
		})
	}
}

// TestOAuth1FakeOOB shows the verifier on a page for the "oob" callback.
func TestOAuth1FakeOOB(t *testing.T) {
	f := newO1Fake(t)
	rt, rs := o1GetRequestToken(t, f, "oob")
	resp, page := testsupport.Fetch(t, http.MethodGet, f.URL+OAuth1FakeAuthorizePath+"?oauth_token="+rt, nil, "")
	m := regexp.MustCompile(`<code id="oauth_verifier">([^<]+)</code>`).FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("oob page: %d %s", resp.StatusCode, page)
	}
	status, _, body := o1Exchange(t, f, rt, rs, m[1])
	if status != http.StatusOK {
		t.Fatalf("access_token: %d %s", status, body)
	}
}

func TestOAuth1FakeBadSignature(t *testing.T) {
	f := newO1Fake(t)
	rt, rs, verifier := o1Approved(t, f)
	at, as := o1AccessFor(t, f)
	rtCall := func() o1Call {
		return o1Call{path: OAuth1FakeRequestTokenPath, oauth: url.Values{"oauth_callback": {o1TestCallback}}}
	}
	userCall := func() o1Call {
		return o1Call{method: http.MethodGet, path: OAuth1FakeUserIDPath + "?a=1", oauth: url.Values{"oauth_token": {at}}, tokenSecret: as}
	}
	// misencodedUserCall requests path as userCall does but signs a base
	// string in which the encoding from stands replaced by to.
	misencodedUserCall := func(path, from, to string) func() o1Call {
		return func() o1Call {
			c := userCall()
			c.path = path
			c.sign = func(base string) string {
				return o1TestSign(strings.Replace(base, from, to, 1), o1TestSecret, as)
			}
			return c
		}
	}
	cases := map[string]func() o1Call{
		"wrong consumer secret": func() o1Call { c := rtCall(); c.consumerSecret = "wrong"; return c },
		"consumer secret not percent-encoded in the key": func() o1Call {
			c := rtCall()
			c.sign = func(base string) string {
				mac := hmac.New(sha1.New, []byte(o1TestSecret+"&"))
				io.WriteString(mac, base)
				return base64.StdEncoding.EncodeToString(mac.Sum(nil))
			}
			return c
		},
		"tampered oauth_callback": func() o1Call {
			c := rtCall()
			c.edit = func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "app.example", "evil.example", 1))
			}
			return c
		},
		"tampered query parameter": func() o1Call {
			c := userCall()
			c.edit = func(r *http.Request) { r.URL.RawQuery = "a=2" }
			return c
		},
		"added query parameter": func() o1Call {
			c := userCall()
			c.edit = func(r *http.Request) { r.URL.RawQuery += "&b=1" }
			return c
		},
		"tampered form body": func() o1Call {
			c := rtCall()
			c.form = url.Values{"x": {"1"}}
			c.edit = func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader("x=2"))
			}
			return c
		},
		"other host": func() o1Call {
			c := userCall()
			c.edit = func(r *http.Request) { r.Host = strings.Replace(r.URL.Host, "127.0.0.1", "localhost", 1) }
			return c
		},
		"wrong token secret": func() o1Call { c := userCall(); c.tokenSecret = "x"; return c },
		"wrong request token secret": func() o1Call {
			return o1Call{path: OAuth1FakeAccessTokenPath, oauth: url.Values{"oauth_token": {rt}, "oauth_verifier": {verifier}}, tokenSecret: rs + "x"}
		},
		"space encoded as +":             misencodedUserCall(OAuth1FakeUserIDPath+"?a=b%20c", "b%2520c", "b%252Bc"),
		"pairs sorted as joined strings": misencodedUserCall(OAuth1FakeUserIDPath+"?a=1&a2=2", "a%3D1%26a2%3D2", "a2%3D2%26a%3D1"),
		"signature not base64": func() o1Call {
			c := userCall()
			c.sign = func(string) string { return "%%%" }
			return c
		},
		"method": func() o1Call {
			c := rtCall()
			c.sign = func(base string) string { return o1TestSign("GET"+strings.TrimPrefix(base, "POST"), o1TestSecret, "") }
			return c
		},
	}
	n := 0
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			status, v, body := o1Do(t, f, mk())
			o1Want(t, name, status, v, body, http.StatusUnauthorized, "signature_invalid")
		})
		n++
		if got := f.BadSignatures(); got != n {
			t.Errorf("after %s: BadSignatures = %d, want %d", name, got, n)
		}
	}
	// None of that burnt the request token or the access token.
	if status, _, body := o1Exchange(t, f, rt, rs, verifier); status != http.StatusOK {
		t.Errorf("exchange after bad signatures: %d %s", status, body)
	}
	status, _, body := o1Do(t, f, userCall())
	o1WantUser(t, status, body, OAuth1FakeDefaultUser)
	// The controls: the same calls, correctly signed, are accepted.
	for _, c := range []o1Call{rtCall(), {method: http.MethodGet, path: OAuth1FakeUserIDPath + "?a=1&a2=2&a=b%20c", oauth: url.Values{"oauth_token": {at}}, tokenSecret: as}} {
		if status, _, body := o1Do(t, f, c); status != http.StatusOK {
			t.Errorf("control %s: %d %s", c.path, status, body)
		}
	}
}

func TestOAuth1FakeTimestamp(t *testing.T) {
	f := newO1Fake(t)
	at := func(d time.Duration) (int, url.Values, string) {
		ts := strconv.FormatInt(f.Now().Add(d).Unix(), 10)
		return o1Do(t, f, o1Call{path: OAuth1FakeRequestTokenPath, oauth: url.Values{"oauth_callback": {"oob"}, "oauth_timestamp": {ts}}})
	}
	for _, d := range []time.Duration{-5*time.Minute - 5*time.Second, 5*time.Minute + 5*time.Second, -time.Hour} {
		status, v, body := at(d)
		o1Want(t, d.String(), status, v, body, http.StatusUnauthorized, "timestamp_refused")
		if v.Get("oauth_acceptable_timestamps") == "" {
			t.Errorf("%s: no oauth_acceptable_timestamps", d)
		}
	}
	for _, d := range []time.Duration{-4*time.Minute - 55*time.Second, 4*time.Minute + 55*time.Second} {
		if status, _, body := at(d); status != http.StatusOK {
			t.Errorf("%s: %d %s", d, status, body)
		}
	}
	status, v, body := o1Do(t, f, o1Call{path: OAuth1FakeRequestTokenPath, oauth: url.Values{"oauth_callback": {"oob"}, "oauth_timestamp": {"soon"}}})
	o1Want(t, "malformed", status, v, body, http.StatusBadRequest, "parameter_rejected")
	if f.BadSignatures() != 0 {
		t.Errorf("BadSignatures = %d", f.BadSignatures())
	}
}

func TestOAuth1FakeNonce(t *testing.T) {
	f := newO1Fake(t)
	ts := strconv.FormatInt(f.Now().Unix(), 10)
	call := func(nonce, ts string, secret string) (int, url.Values, string) {
		return o1Do(t, f, o1Call{path: OAuth1FakeRequestTokenPath, consumerSecret: secret,
			oauth: url.Values{"oauth_callback": {"oob"}, "oauth_nonce": {nonce}, "oauth_timestamp": {ts}}})
	}
	// A badly signed request does not burn the nonce.
	status, v, body := call("n-1", ts, "wrong")
	o1Want(t, "bad signature", status, v, body, http.StatusUnauthorized, "signature_invalid")
	if status, _, body := call("n-1", ts, ""); status != http.StatusOK {
		t.Fatalf("first use: %d %s", status, body)
	}
	status, v, body = call("n-1", ts, "")
	o1Want(t, "replay", status, v, body, http.StatusUnauthorized, "nonce_used")
	// The nonce is per timestamp and per consumer.
	older := strconv.FormatInt(f.Now().Unix()-10, 10)
	if status, _, body := call("n-1", older, ""); status != http.StatusOK {
		t.Errorf("same nonce, other timestamp: %d %s", status, body)
	}
	f.AddConsumer("other", "other-secret")
	status, _, body = o1Do(t, f, o1Call{path: OAuth1FakeRequestTokenPath, consumerSecret: "other-secret",
		oauth: url.Values{"oauth_consumer_key": {"other"}, "oauth_callback": {"oob"}, "oauth_nonce": {"n-1"}, "oauth_timestamp": {ts}}})
	if status != http.StatusOK {
		t.Errorf("same nonce, other consumer: %d %s", status, body)
	}
	// Replays on the token endpoints and the resource are refused too.
	at, as := o1AccessFor(t, f)
	c := o1Call{method: http.MethodGet, path: OAuth1FakeUserIDPath, tokenSecret: as,
		oauth: url.Values{"oauth_token": {at}, "oauth_nonce": {"n-2"}, "oauth_timestamp": {ts}}}
	status, _, body = o1Do(t, f, c)
	o1WantUser(t, status, body, OAuth1FakeDefaultUser)
	status, v, body = o1Do(t, f, c)
	o1Want(t, "resource replay", status, v, body, http.StatusUnauthorized, "nonce_used")
}

func TestOAuth1FakeRequestTokenReplay(t *testing.T) {
	f := newO1Fake(t)
	rt, rs, verifier := o1Approved(t, f)
	if status, _, body := o1Exchange(t, f, rt, rs, verifier); status != http.StatusOK {
		t.Fatalf("first exchange: %d %s", status, body)
	}
	status, v, body := o1Exchange(t, f, rt, rs, verifier)
	o1Want(t, "second exchange", status, v, body, http.StatusUnauthorized, "token_rejected")
	if len(f.AccessTokens(OAuth1FakeDefaultUser)) != 1 {
		t.Errorf("AccessTokens = %v", f.AccessTokens(OAuth1FakeDefaultUser))
	}
	// The authorization page no longer takes it either.
	resp, page := testsupport.Fetch(t, http.MethodGet, f.URL+OAuth1FakeAuthorizePath+"?oauth_token="+rt, nil, "")
	if resp.StatusCode != http.StatusBadRequest || string(page) != "oauth_problem=token_rejected" {
		t.Errorf("authorize used token: %d %s", resp.StatusCode, page)
	}
}

func TestOAuth1FakeRequestTokenExpiry(t *testing.T) {
	t.Run("default 10 minutes", func(t *testing.T) {
		f := newO1Fake(t)
		rt, rs, verifier := o1Approved(t, f)
		f.Advance(10*time.Minute + time.Second) // the test signer follows the fake's clock
		status, v, body := o1Exchange(t, f, rt, rs, verifier)
		o1Want(t, "exchange", status, v, body, http.StatusUnauthorized, "token_expired")
		f2 := newO1Fake(t)
		rt, rs, verifier = o1Approved(t, f2)
		f2.Advance(9*time.Minute + 50*time.Second)
		if status, _, body := o1Exchange(t, f2, rt, rs, verifier); status != http.StatusOK {
			t.Errorf("before the TTL: %d %s", status, body)
		}
	})
	t.Run("shortened", func(t *testing.T) {
		f := newO1Fake(t)
		f.SetRequestTokenTTL(time.Minute)
		rt, rs, verifier := o1Approved(t, f)
		rt2, _ := o1GetRequestToken(t, f, o1TestCallback)
		f.Advance(61 * time.Second)
		status, v, body := o1Exchange(t, f, rt, rs, verifier)
		o1Want(t, "exchange", status, v, body, http.StatusUnauthorized, "token_expired")
		resp, page := testsupport.Fetch(t, http.MethodGet, f.URL+OAuth1FakeAuthorizePath+"?oauth_token="+rt2, nil, "")
		if resp.StatusCode != http.StatusBadRequest || string(page) != "oauth_problem=token_expired" {
			t.Errorf("authorize expired token: %d %s", resp.StatusCode, page)
		}
	})
}

func TestOAuth1FakeWrongVerifier(t *testing.T) {
	f := newO1Fake(t)
	rt, rs, verifier := o1Approved(t, f)
	for _, v := range []string{"", verifier + "x", strings.ToLower(verifier)} {
		if v == verifier {
			continue
		}
		status, got, body := o1Exchange(t, f, rt, rs, v)
		o1Want(t, "verifier "+v, status, got, body, http.StatusUnauthorized, "verifier_invalid")
	}
	// No verifier at all is a malformed request.
	status, got, body := o1Do(t, f, o1Call{path: OAuth1FakeAccessTokenPath, oauth: url.Values{"oauth_token": {rt}}, tokenSecret: rs})
	o1Want(t, "no verifier", status, got, body, http.StatusBadRequest, "parameter_absent")
	if got.Get("oauth_parameters_absent") != "oauth_verifier" {
		t.Errorf("oauth_parameters_absent = %q", got.Get("oauth_parameters_absent"))
	}
	// A wrong verifier does not consume the token.
	if status, _, body := o1Exchange(t, f, rt, rs, verifier); status != http.StatusOK {
		t.Errorf("right verifier after wrong ones: %d %s", status, body)
	}
	// A token that was never approved has no verifier to match.
	rt2, rs2 := o1GetRequestToken(t, f, o1TestCallback)
	status, got, body = o1Exchange(t, f, rt2, rs2, verifier)
	o1Want(t, "not approved", status, got, body, http.StatusUnauthorized, "verifier_invalid")
}

func TestOAuth1FakeDenied(t *testing.T) {
	f := newO1Fake(t)
	f.DenyAuthorization(true)
	rt, rs := o1GetRequestToken(t, f, o1TestCallback)
	q := o1Authorize(t, f, rt)
	if q.Has("oauth_verifier") || q.Get("denied") != rt || q.Get("oauth_problem") != "user_refused" || q.Get("x") != "1" {
		t.Fatalf("denied callback: %v", q)
	}
	cb, _ := http.NewRequest(http.MethodGet, o1TestCallback+"&"+q.Encode(), nil)
	if _, _, err := oauth1.ParseAuthorizationCallback(cb); err == nil {
		t.Error("the library took the denial for an approval")
	}
	status, v, body := o1Exchange(t, f, rt, rs, "guess")
	o1Want(t, "exchange denied token", status, v, body, http.StatusUnauthorized, "token_rejected")
	// Approval again works for new tokens.
	f.DenyAuthorization(false)
	o1AccessFor(t, f)
}

func TestOAuth1FakeRevokedAccessToken(t *testing.T) {
	f := newO1Fake(t)
	f.SetUser("u-1")
	at1, as1 := o1AccessFor(t, f)
	at2, as2 := o1AccessFor(t, f)
	f.SetUser("u-2")
	at3, as3 := o1AccessFor(t, f)
	if got := f.AccessTokens("u-1"); len(got) != 2 || got[0] != at1 || got[1] != at2 {
		t.Fatalf("AccessTokens(u-1) = %v", got)
	}
	f.RevokeAccessTokens("u-1")
	if got := f.AccessTokens("u-1"); len(got) != 0 {
		t.Errorf("AccessTokens(u-1) after revoke = %v", got)
	}
	for _, c := range [][2]string{{at1, as1}, {at2, as2}} {
		status, v, body := o1GetUserID(t, f, c[0], c[1])
		o1Want(t, "revoked", status, v, body, http.StatusUnauthorized, "token_revoked")
	}
	status, _, body := o1GetUserID(t, f, at3, as3)
	o1WantUser(t, status, body, "u-2")
	status, v, body := o1GetUserID(t, f, "no-such-token", "x")
	o1Want(t, "unknown", status, v, body, http.StatusUnauthorized, "token_rejected")
}

// TestOAuth1FakeTokenBinding checks that tokens only work where and for
// whom they were issued.
func TestOAuth1FakeTokenBinding(t *testing.T) {
	f := newO1Fake(t)
	f.AddConsumer("other", "other-secret")
	rt, rs, _ := o1Approved(t, f)
	at, as := o1AccessFor(t, f)
	// A request token at the resource.
	status, v, body := o1GetUserID(t, f, rt, rs)
	o1Want(t, "request token at resource", status, v, body, http.StatusUnauthorized, "token_rejected")
	// An access token at the access token endpoint.
	status, v, body = o1Exchange(t, f, at, as, "x")
	o1Want(t, "access token exchanged", status, v, body, http.StatusUnauthorized, "token_rejected")
	// Another consumer with the tokens.
	status, v, body = o1Do(t, f, o1Call{method: http.MethodGet, path: OAuth1FakeUserIDPath, consumerSecret: "other-secret",
		oauth: url.Values{"oauth_consumer_key": {"other"}, "oauth_token": {at}}, tokenSecret: as})
	o1Want(t, "other consumer's access token", status, v, body, http.StatusUnauthorized, "token_rejected")
	rt2, rs2, verifier := o1Approved(t, f)
	status, v, body = o1Do(t, f, o1Call{path: OAuth1FakeAccessTokenPath, consumerSecret: "other-secret",
		oauth: url.Values{"oauth_consumer_key": {"other"}, "oauth_token": {rt2}, "oauth_verifier": {verifier}}, tokenSecret: rs2})
	o1Want(t, "other consumer's request token", status, v, body, http.StatusUnauthorized, "token_rejected")
	if status, _, body := o1Exchange(t, f, rt2, rs2, verifier); status != http.StatusOK {
		t.Errorf("own consumer after the other's attempt: %d %s", status, body)
	}
}

// TestOAuth1FakeMalformed checks the 400s and the first 401s.
func TestOAuth1FakeMalformed(t *testing.T) {
	f := newO1Fake(t)
	rtCall := func(edit func(*o1Call)) o1Call {
		c := o1Call{path: OAuth1FakeRequestTokenPath, oauth: url.Values{"oauth_callback": {o1TestCallback}}}
		if edit != nil {
			edit(&c)
		}
		return c
	}
	cases := []struct {
		name    string
		call    o1Call
		status  int
		problem string
	}{
		{"no callback", rtCall(func(c *o1Call) { c.oauth["oauth_callback"] = nil }), 400, "parameter_absent"},
		{"relative callback", rtCall(func(c *o1Call) { c.oauth.Set("oauth_callback", "/cb") }), 400, "parameter_rejected"},
		{"no nonce", rtCall(func(c *o1Call) { c.oauth["oauth_nonce"] = nil }), 400, "parameter_absent"},
		{"no signature", rtCall(func(c *o1Call) { c.sign = func(string) string { return "" }; c.edit = stripSignature }), 400, "parameter_absent"},
		{"no version is fine", rtCall(func(c *o1Call) { c.oauth["oauth_version"] = nil }), 200, ""},
		{"version 2.0", rtCall(func(c *o1Call) { c.oauth.Set("oauth_version", "2.0") }), 400, "version_rejected"},
		{"PLAINTEXT", rtCall(func(c *o1Call) {
			c.oauth.Set("oauth_signature_method", "PLAINTEXT")
			c.oauth.Set("oauth_signature", o1TestEncode(o1TestSecret)+"&")
		}), 400, "signature_method_rejected"},
		{"HMAC-SHA256", rtCall(func(c *o1Call) { c.oauth.Set("oauth_signature_method", "HMAC-SHA256") }), 400, "signature_method_rejected"},
		{"unknown consumer", rtCall(func(c *o1Call) { c.oauth.Set("oauth_consumer_key", "nobody") }), 401, "consumer_key_unknown"},
		{"token at request_token", rtCall(func(c *o1Call) { c.oauth.Set("oauth_token", "t") }), 400, "parameter_rejected"},
		{"empty token at request_token is fine", rtCall(func(c *o1Call) { c.oauth.Set("oauth_token", "") }), 200, ""},
		{"duplicated protocol parameter", rtCall(func(c *o1Call) { c.oauth["oauth_nonce"] = []string{"n-1", "n-2"} }), 400, "parameter_rejected"},
		{"header and query", rtCall(func(c *o1Call) { c.path += "?oauth_extra=1" }), 400, "parameter_rejected"},
		{"body and query", rtCall(func(c *o1Call) { c.place = "body"; c.path += "?oauth_extra=1" }), 400, "parameter_rejected"},
		{"unquoted header value", rtCall(func(c *o1Call) {
			c.edit = func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), `oauth_version="1.0"`, `oauth_version=1.0`, 1))
			}
		}), 400, "parameter_rejected"},
		{"no credentials", rtCall(func(c *o1Call) { c.edit = func(r *http.Request) { r.Header.Del("Authorization") } }), 401, "parameter_absent"},
		{"Bearer is not OAuth", rtCall(func(c *o1Call) { c.edit = func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") } }), 401, "parameter_absent"},
	}
	for _, tc := range cases {
		status, v, body := o1Do(t, f, tc.call)
		if status != tc.status || v.Get("oauth_problem") != tc.problem {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.problem)
		}
	}
	if f.BadSignatures() != 0 {
		t.Errorf("BadSignatures = %d", f.BadSignatures())
	}
	resp, err := http.Get(f.URL + OAuth1FakeRequestTokenPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET request_token: %d", resp.StatusCode)
	}
	if f.Requests(OAuth1FakeRequestTokenPath) != len(cases)+1 {
		t.Errorf("Requests = %d, want %d", f.Requests(OAuth1FakeRequestTokenPath), len(cases)+1)
	}
}

// stripSignature removes oauth_signature from the Authorization header.
func stripSignature(r *http.Request) {
	h := r.Header.Get("Authorization")
	h = regexp.MustCompile(`,\s*oauth_signature="[^"]*"`).ReplaceAllString(h, "")
	r.Header.Set("Authorization", h)
}
