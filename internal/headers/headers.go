// Package headers removes client-sent identity headers and Gatehouse's own
// cookies from requests, and sets the identity headers the upstream reads.
package headers

import (
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
)

// Names holds the header each identity field is sent in (indexed like
// identity.Fields), and the headers of the signed assertion and of the
// access token; "" sends nothing.
type Names struct {
	Fields [identity.NumFields]string
	// JWT carries the signed assertion of the identity.
	JWT string
	// AccessToken is "" (off) unless pass_access_token is on.
	AccessToken string
}

// DefaultJWT is the header of the signed identity assertion.
const DefaultJWT = "X-Auth-Jwt"

// DefaultAccessToken is the header of the access token with
// pass_access_token.
const DefaultAccessToken = "X-Auth-Access-Token"

// Defaults returns the header names used when the operator renames
// nothing: every field's default, the assertion, no access token.
func Defaults() Names {
	n := Names{JWT: DefaultJWT}
	for i := range identity.Fields {
		n.Fields[i] = identity.Fields[i].Header
	}
	return n
}

// Renamable is a header headers { } can rename or turn off: every
// identity field, the assertion and the access token.
type Renamable struct {
	// Key names it in headers { } (and the JSON config).
	Key string
	// Default is the header it is sent in unless renamed.
	Default string
}

// Renamables lists every renamable header in the order the
// documentation gives them.
func Renamables() []Renamable {
	out := make([]Renamable, 0, identity.NumFields+2)
	for i := range identity.Fields {
		out = append(out, Renamable{identity.Fields[i].Key, identity.Fields[i].Header})
	}
	return append(out, Renamable{"jwt", DefaultJWT}, Renamable{"access_token", DefaultAccessToken})
}

// Rename sends the header named by key as header ("" for none); it
// reports false for an unknown key.
func (n *Names) Rename(key, header string) bool {
	switch key {
	case "jwt":
		n.JWT = header
	case "access_token":
		n.AccessToken = header
	default:
		i, ok := identity.Lookup(key)
		if !ok {
			return false
		}
		n.Fields[i] = header
	}
	return true
}

// reserved are request headers an identity header must not be sent as:
// Gatehouse removes client copies of its headers, which would break these.
var reserved = []string{
	"Authorization", "Connection", "Content-Length", "Content-Type", "Cookie", "Host",
	"Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Te", "Trailer",
	"Transfer-Encoding", "Upgrade", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
}

// Reserved reports whether name (any case) is a header an identity
// header must not be sent as, and its usual spelling.
func Reserved(name string) (string, bool) {
	for _, r := range reserved {
		if strings.EqualFold(r, name) {
			return r, true
		}
	}
	return "", false
}

// reservedPrefix: every client header that normalises to x-auth-* is
// removed, so future fields and renamed defaults are covered too.
const reservedPrefix = "x-auth-"

// Set sets identity headers under fixed names after stripping every
// client-sent variant of them.
type Set struct {
	names Names
	strip map[string]struct{} // normalised names beyond the reserved prefix
}

// New returns a Set for names. Every default name and every configured
// name is stripped from incoming requests, whether or not it is sent.
func New(names Names) *Set {
	s := &Set{names: names, strip: map[string]struct{}{}}
	add := func(n string) {
		if norm := normalise(n); n != "" && !strings.HasPrefix(norm, reservedPrefix) {
			s.strip[norm] = struct{}{}
		}
	}
	for i, n := range names.Fields {
		add(n)
		if identity.Fields[i].List != nil && n != "" {
			add(n + truncatedSuffix) // setList's marker
		}
	}
	add(names.JWT)
	add(names.AccessToken)
	return s
}

// Ours reports whether a header named name, in any case and with '_' for
// '-', is one of the identity headers (or reserved for them).
func (s *Set) Ours(name string) bool {
	if hasReservedPrefix(name) {
		return true
	}
	if len(s.strip) == 0 {
		return false
	}
	_, ok := s.strip[normalise(name)]
	return ok
}

// normalise lowercases name and turns '_' into '-', the way upstreams
// (CGI, many frameworks) fold header names.
func normalise(name string) string {
	b := []byte(name)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case c == '_':
			b[i] = '-'
		}
	}
	return string(b)
}

// hasReservedPrefix reports whether name folds to "x-auth-..." without
// allocating.
func hasReservedPrefix(name string) bool {
	if len(name) < len(reservedPrefix) {
		return false
	}
	for i := 0; i < len(reservedPrefix); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		} else if c == '_' {
			c = '-'
		}
		if c != reservedPrefix[i] {
			return false
		}
	}
	return true
}

// Strip removes from h every header that folds (case, '_' for '-') to one
// of the identity header names, whatever the client sent and however many
// copies.
//
// It also drops identity header names from the Connection header: a proxy
// removes every header Connection names (they are hop-by-hop), so a client
// could otherwise strip the identity Gatehouse sets after this.
func (s *Set) Strip(h http.Header) {
	for k := range h {
		if s.Ours(k) {
			delete(h, k)
		}
	}
	if conn, ok := h["Connection"]; ok {
		h["Connection"] = s.connectionTokens(conn)
		if len(h["Connection"]) == 0 {
			delete(h, "Connection")
		}
	}
}

// connectionTokens returns the Connection header lines without the
// tokens that name identity headers; lines are kept as they are when
// they name none.
func (s *Set) connectionTokens(lines []string) []string {
	var out []string
	for i, line := range lines {
		keep := true
		for tok := range strings.SplitSeq(line, ",") {
			if s.Ours(strings.TrimSpace(tok)) {
				keep = false
				break
			}
		}
		if keep {
			if out != nil {
				out = append(out, line)
			}
			continue
		}
		if out == nil {
			out = append(make([]string, 0, len(lines)), lines[:i]...)
		}
		var kept []string
		for tok := range strings.SplitSeq(line, ",") {
			if tok = strings.TrimSpace(tok); tok != "" && !s.Ours(tok) {
				kept = append(kept, tok)
			}
		}
		if len(kept) > 0 {
			out = append(out, strings.Join(kept, ", "))
		}
	}
	if out == nil {
		return lines
	}
	return out
}

// StripTrailers removes identity headers from request trailers: those
// declared up front (so none is announced upstream) and, through the
// body, those that arrive after it. A proxy copies the request's trailers
// to the upstream once the body is read to its end.
func (s *Set) StripTrailers(r *http.Request) {
	if len(r.Trailer) == 0 || r.Body == nil {
		return
	}
	for k := range r.Trailer {
		if s.Ours(k) {
			delete(r.Trailer, k)
		}
	}
	r.Body = &trailerStripper{ReadCloser: r.Body, set: s, trailer: r.Trailer}
}

// trailerStripper removes identity headers from the request's trailers
// the moment the body reaches its end, which is when net/http fills them
// in (into the map the request's copies share) and before anything that
// reads the body can copy them.
type trailerStripper struct {
	io.ReadCloser
	set     *Set
	trailer http.Header
}

func (b *trailerStripper) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		for k := range b.trailer {
			if b.set.Ours(k) {
				delete(b.trailer, k)
			}
		}
	}
	return n, err
}

// Values are the header values of one identity, built once (sanitized,
// lists joined and capped at MaxListBytes) and set on any number of
// requests. They are never modified after Values returns them.
type Values struct {
	names, vals []string
}

// Values builds u's header values under the configured names (empty
// values are not sent); the assertion and the access token, which change
// on their own schedule, are added by ApplyValues. Strip must have run on
// a request before its values are applied. The engine keeps the values
// per cached session.
func (s *Set) Values(u *identity.User) *Values {
	n := len(identity.Fields) + 2
	v := &Values{names: make([]string, 0, n), vals: make([]string, 0, n)}
	add := func(name, val string) {
		if name != "" && val != "" {
			v.names = append(v.names, name)
			v.vals = append(v.vals, val)
		}
	}
	for i := range identity.Fields {
		f := &identity.Fields[i]
		if f.Value != nil {
			add(s.names.Fields[i], sanitize(f.Value(u)))
		} else if name := s.names.Fields[i]; name != "" {
			list, truncated := joinList(f.List(u))
			add(name, list)
			if truncated {
				add(name+truncatedSuffix, "true")
			}
		}
	}
	return v
}

// ApplyValues sets v, the assertion jwt and accessToken ("" leaves a
// header out) on h, with one allocation for all of them.
func (s *Set) ApplyValues(h http.Header, v *Values, jwt, accessToken string) {
	backing := make([]string, len(v.vals)+2)
	n := copy(backing, v.vals)
	for i, name := range v.names {
		h[name] = backing[i : i+1 : i+1]
	}
	for _, e := range [2][2]string{{s.names.JWT, jwt}, {s.names.AccessToken, accessToken}} {
		if e[0] != "" && e[1] != "" {
			backing[n] = sanitize(e[1])
			h[e[0]] = backing[n : n+1 : n+1]
			n++
		}
	}
}

// MaxListBytes caps X-Auth-Groups and X-Auth-Repos. Many servers refuse
// request headers over 8 KiB in total; a user with hundreds of
// repositories must not make every request fail. A list that does not fit
// is cut at an entry boundary and "<name>-Truncated: true" is added; the
// full list is at {prefix}/repos.
const MaxListBytes = 4096

// truncatedSuffix names the header that marks a cut list.
const truncatedSuffix = "-Truncated"

// joinList joins values with commas, leaving out any that holds one
// (it could not be told apart) and stopping before MaxListBytes.
func joinList(values []string) (list string, truncated bool) {
	var b strings.Builder
	for _, v := range values {
		v = sanitize(v)
		if strings.ContainsRune(v, ',') {
			continue // cannot be represented in a comma-separated list
		}
		if b.Len()+len(v)+1 > MaxListBytes {
			return b.String(), true
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(v)
	}
	return b.String(), false
}

// SendsAccessToken reports whether the access token header is on
// (pass_access_token).
func (s *Set) SendsAccessToken() bool { return s.names.AccessToken != "" }

// Names returns the configured names.
func (s *Set) Names() Names { return s.names }

// sanitize drops control characters, so a provider-supplied value can never
// split a header.
func sanitize(v string) string {
	clean := true
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return v
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, v)
}

// StripCookies removes the named cookies from the request's Cookie
// headers, keeping every other cookie byte for byte.
func StripCookies(h http.Header, names ...string) {
	lines := h["Cookie"]
	if len(lines) == 0 {
		return
	}
	out := lines[:0]
	for _, line := range lines {
		if !containsAny(line, names) {
			out = append(out, line)
			continue
		}
		// The kept cookies: the first as a substring of line, the rest
		// (rarely any) joined after it; a line holding only Gatehouse's
		// cookies costs no allocation.
		var first string
		var b strings.Builder
		for rest := line; rest != ""; {
			var part string
			part, rest, _ = strings.Cut(rest, ";")
			part = strings.TrimSpace(part)
			name, _, _ := strings.Cut(part, "=")
			switch {
			case part == "" || slices.Contains(names, name):
			case first == "":
				first = part
			default:
				if b.Len() == 0 {
					b.Grow(len(line))
					b.WriteString(first)
				}
				b.WriteString("; ")
				b.WriteString(part)
			}
		}
		if b.Len() > 0 {
			out = append(out, b.String())
		} else if first != "" {
			out = append(out, first)
		}
	}
	if len(out) == 0 {
		delete(h, "Cookie")
		return
	}
	h["Cookie"] = out
}

func containsAny(s string, subs []string) bool {
	for _, n := range subs {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}
