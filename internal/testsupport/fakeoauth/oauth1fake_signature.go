package fakeoauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// o1Problem is a refusal.
type o1Problem struct {
	status          int
	problem, advice string
	extra           url.Values
}

func o1Problemf(status int, problem, advice string) *o1Problem {
	return &o1Problem{status: status, problem: problem, advice: advice}
}

// o1Param is one request parameter, decoded.
type o1Param struct{ name, value string }

// o1Request is what a signed request carries.
type o1Request struct {
	// oauth holds the protocol parameters (the oauth_* ones), from the one
	// place they were sent.
	oauth map[string]string
	// base is the signature base string.
	base string
}

// require answers parameter_absent unless req has every protocol
// parameter every signed request needs and the names given.
func (req *o1Request) require(names ...string) *o1Problem {
	var absent []string
	for _, n := range append([]string{"oauth_consumer_key", "oauth_signature_method", "oauth_signature", "oauth_timestamp", "oauth_nonce"}, names...) {
		if _, ok := req.oauth[n]; !ok {
			absent = append(absent, n)
		}
	}
	if len(absent) == 0 {
		return nil
	}
	p := o1Problemf(http.StatusBadRequest, "parameter_absent", "missing "+strings.Join(absent, ", "))
	if len(req.oauth) == 0 {
		p.status = http.StatusUnauthorized // no OAuth credentials at all
	}
	p.extra = url.Values{"oauth_parameters_absent": {strings.Join(absent, "&")}}
	return p
}

// o1ReadRequest reads r's parameters, checks the protocol parameters'
// placement, signature method and version, and builds the signature base
// string.
func o1ReadRequest(r *http.Request) (*o1Request, *o1Problem) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	header, query, body, err := o1Collect(r)
	if err != nil {
		return nil, o1Problemf(http.StatusBadRequest, "parameter_rejected", err.Error())
	}
	// RFC 5849 3.5: protocol parameters go in one place only.
	var oauth []o1Param
	for _, place := range [][]o1Param{header, body, query} {
		has := slices.ContainsFunc(place, func(p o1Param) bool { return strings.HasPrefix(p.name, "oauth_") })
		if has && oauth != nil {
			return nil, o1Problemf(http.StatusBadRequest, "parameter_rejected", "protocol parameters sent in more than one of header, body and query")
		}
		if has {
			oauth = place
		}
	}
	req := &o1Request{oauth: map[string]string{}}
	for _, p := range oauth {
		if !strings.HasPrefix(p.name, "oauth_") {
			continue
		}
		if _, dup := req.oauth[p.name]; dup {
			return nil, o1Problemf(http.StatusBadRequest, "parameter_rejected", "duplicated protocol parameter "+p.name)
		}
		req.oauth[p.name] = p.value
	}
	if m, ok := req.oauth["oauth_signature_method"]; ok && m != "HMAC-SHA1" {
		return nil, o1Problemf(http.StatusBadRequest, "signature_method_rejected", "oauth_signature_method must be HMAC-SHA1")
	}
	if v, ok := req.oauth["oauth_version"]; ok && v != "1.0" {
		p := o1Problemf(http.StatusBadRequest, "version_rejected", "oauth_version must be 1.0")
		p.extra = url.Values{"oauth_acceptable_versions": {"1.0-1.0"}}
		return nil, p
	}
	var signed []o1Param
	for _, p := range slices.Concat(header, query, body) {
		if p.name != "oauth_signature" {
			signed = append(signed, p)
		}
	}
	req.base = o1SignatureBase(r.Method, o1BaseURI(scheme, r.Host, o1RawPath(r)), signed)
	return req, nil
}

// o1Collect returns the parameters of r's Authorization: OAuth header
// (realm left out), query and application/x-www-form-urlencoded body
// (RFC 5849 3.4.1.3.1), decoded, in the order sent. The body stays
// readable.
func o1Collect(r *http.Request) (header, query, body []o1Param, err error) {
	for _, h := range r.Header.Values("Authorization") {
		scheme, rest, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "OAuth") {
			continue
		}
		if header, err = o1ParseAuthorization(rest); err != nil {
			return nil, nil, nil, err
		}
		break
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("malformed query: %v", err)
	}
	query = o1Pairs(q)
	if r.Body != nil {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct == "application/x-www-form-urlencoded" {
			b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				return nil, nil, nil, err
			}
			r.Body = io.NopCloser(strings.NewReader(string(b)))
			v, err := url.ParseQuery(string(b))
			if err != nil {
				return nil, nil, nil, fmt.Errorf("malformed form body: %v", err)
			}
			body = o1Pairs(v)
		}
	}
	return header, query, body, nil
}

// o1Pairs flattens v (order does not matter: the base string sorts).
func o1Pairs(v url.Values) []o1Param {
	var out []o1Param
	for name, vals := range v {
		for _, val := range vals {
			out = append(out, o1Param{name, val})
		}
	}
	return out
}

// o1ParseAuthorization parses the parameters of an "OAuth" Authorization
// header (RFC 5849 3.5.1): comma-separated name="value" pairs, names and
// values percent-encoded. realm is dropped.
func o1ParseAuthorization(s string) ([]o1Param, error) {
	var out []o1Param
	for item := range strings.SplitSeq(s, ",") {
		item = strings.Trim(item, " \t\r\n")
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		if !ok || len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("malformed Authorization header parameter %q", item)
		}
		value = value[1 : len(value)-1]
		n, err1 := o1Decode(name)
		v, err2 := o1Decode(value)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("malformed percent-encoding in Authorization header parameter %q", item)
		}
		if n == "realm" {
			continue
		}
		out = append(out, o1Param{n, v})
	}
	return out, nil
}

// o1Decode undoes RFC 3986 percent-encoding (a "+" stays a "+").
func o1Decode(s string) (string, error) {
	if strings.Contains(s, `"`) {
		return "", fmt.Errorf("quote in value")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("truncated escape")
		}
		c, err := hex.DecodeString(s[i+1 : i+3])
		if err != nil {
			return "", err
		}
		b.Write(c)
		i += 2
	}
	return b.String(), nil
}

// o1RawPath is r's path as sent on the request line, without the query.
func o1RawPath(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" || uri == "*" {
		return r.URL.EscapedPath()
	}
	if !strings.HasPrefix(uri, "/") { // absolute-form
		u, err := url.ParseRequestURI(uri)
		if err != nil {
			return r.URL.EscapedPath()
		}
		uri = u.EscapedPath()
	}
	path, _, _ := strings.Cut(uri, "?")
	if path == "" {
		path = "/"
	}
	return path
}

// o1BaseURI is the base string URI (RFC 5849 3.4.1.2): scheme and host
// lower-case, the port only when it is not the scheme's default.
func o1BaseURI(scheme, hostport, path string) string {
	scheme, hostport = strings.ToLower(scheme), strings.ToLower(hostport)
	if host, port, err := net.SplitHostPort(hostport); err == nil {
		if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
			hostport = host
			if strings.Contains(host, ":") {
				hostport = "[" + host + "]"
			}
		}
	}
	return scheme + "://" + hostport + path
}

// o1SignatureBase is the signature base string (RFC 5849 3.4.1.1) of a
// request with method, base string URI and params (oauth_signature and
// realm already left out).
func o1SignatureBase(method, baseURI string, params []o1Param) string {
	pairs := make([]o1Param, len(params))
	for i, p := range params {
		pairs[i] = o1Param{o1Encode(p.name), o1Encode(p.value)}
	}
	slices.SortFunc(pairs, func(a, b o1Param) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	norm := make([]string, len(pairs))
	for i, p := range pairs {
		norm[i] = p.name + "=" + p.value
	}
	return strings.ToUpper(method) + "&" + o1Encode(baseURI) + "&" + o1Encode(strings.Join(norm, "&"))
}

// o1Encode percent-encodes s as RFC 5849 3.6 says: every byte but the
// unreserved characters ALPHA, DIGIT, "-", ".", "_" and "~", as %XX with
// upper-case hex.
func o1Encode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// o1HMACSHA1 is the HMAC-SHA1 signature (RFC 5849 3.4.2) of base.
func o1HMACSHA1(consumerSecret, tokenSecret, base string) []byte {
	mac := hmac.New(sha1.New, []byte(o1Encode(consumerSecret)+"&"+o1Encode(tokenSecret)))
	mac.Write([]byte(base))
	return mac.Sum(nil)
}

// o1WriteForm writes a 200 form-encoded answer with the pairs in order.
func o1WriteForm(w http.ResponseWriter, kv ...string) {
	var b strings.Builder
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]) + "=" + url.QueryEscape(kv[i+1]))
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, b.String())
}

// o1Secret is a random secret or verifier of 32 authserver.Base62 characters.
func o1Secret() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
