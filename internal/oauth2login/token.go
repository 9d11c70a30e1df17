package oauth2login

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// maxBody bounds what is read from a provider's answer.
const maxBody = 1 << 20

// maxLifetime bounds expires_in (seconds); beyond it the expiry is unknown.
const maxLifetime = 10 * 366 * 24 * 3600

// tokenResult is a successful token endpoint answer.
type tokenResult struct {
	AccessToken, RefreshToken, IDToken string
	Expiry                             time.Time
}

// tokenError is a token endpoint refusal or failure. It never holds a
// token, code or secret: only the provider's error code and description.
type tokenError struct {
	// status is the HTTP status (0 when the provider could not be reached).
	status int
	// code is the OAuth "error" (or "code=N" for a numeric provider code).
	code, description string
	// invalidGrant is set when the grant is refused for good.
	invalidGrant bool
	// transient is set for network errors, 5xx and 429.
	transient bool
	err       error
}

func (e *tokenError) Error() string {
	var b strings.Builder
	b.WriteString("token endpoint")
	if e.status != 0 {
		fmt.Fprintf(&b, " answered HTTP %d", e.status)
	}
	if e.code != "" {
		b.WriteString(": " + e.code)
	}
	if e.description != "" {
		b.WriteString(" (" + e.description + ")")
	}
	if e.err != nil {
		b.WriteString(": " + e.err.Error())
	}
	return b.String()
}

func (e *tokenError) Unwrap() error { return e.err }

// exchangeError maps a token endpoint error of the code exchange to a
// *provider.Error.
func exchangeError(err error) error {
	var te *tokenError
	if errors.As(err, &te) && !te.transient {
		return &provider.Error{Code: "exchange_failed", Status: http.StatusBadRequest, Err: fmt.Errorf("code exchange refused: %w", err)}
	}
	return provider.Unavailable(fmt.Errorf("code exchange: %w", err))
}

// unreachableError is an API call that got no answer (a network error or
// a timeout) or a 5xx: the provider's failure, not the user's.
type unreachableError struct {
	err error
}

func (e *unreachableError) Error() string { return e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// userinfoError maps a failure to read the user (the userinfo or the
// emails endpoint) to a *provider.Error: provider_timeout or
// provider_unavailable when the provider did not answer, userinfo_failed
// when what it answered cannot be used.
func userinfoError(err error) error {
	var ue *unreachableError
	if errors.As(err, &ue) {
		return provider.Unavailable(err)
	}
	return &provider.Error{Code: "userinfo_failed", Status: http.StatusBadGateway, Err: err}
}

// token posts form (plus the client credentials) to the token endpoint and
// parses the answer.
func (p *Provider) token(ctx context.Context, form url.Values) (*tokenResult, error) {
	resp, err := p.postForm(ctx, p.cfg.TokenURL, form)
	if err != nil {
		return nil, &tokenError{transient: true, err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, &tokenError{status: resp.StatusCode, transient: true, err: sanitize(err)}
	}
	return p.parseToken(resp.StatusCode, resp.Header.Get("Content-Type"), body)
}

// parseToken reads a token endpoint answer: JSON (or form-encoded, as
// some providers still answer), errors sent with any HTTP status including
// 200, expires_in as a number or a string.
func (p *Provider) parseToken(status int, contentType string, body []byte) (*tokenResult, error) {
	fields, perr := decodeTokenBody(contentType, body)
	te := &tokenError{status: status}
	if fields != nil {
		te.code = truncate(str(fields["error"]), 64)
		te.description = truncate(str(fields["error_description"]), 200)
		if te.description == "" {
			te.description = truncate(firstNonEmpty(str(fields["msg"]), str(fields["message"])), 200)
		}
		if f := p.cfg.ResponseCodeField; f != "" {
			if n, ok := number(fields[f]); ok && n != 0 {
				if te.code == "" {
					te.code = f + "=" + strconv.FormatInt(n, 10)
				}
				te.invalidGrant = slices.Contains(p.cfg.InvalidGrantCodes, n)
			}
		}
	}
	switch {
	case status >= 500 || status == http.StatusTooManyRequests ||
		te.code == "temporarily_unavailable" || te.code == "server_error":
		// Microsoft documents temporarily_unavailable at its token endpoint.
		te.transient, te.invalidGrant = true, false
		return nil, te
	case te.code != "":
		te.invalidGrant = te.invalidGrant || te.code == "invalid_grant"
		return nil, te
	case status/100 != 2:
		return nil, te
	case perr != nil:
		te.transient, te.err = true, fmt.Errorf("unreadable answer: %w", perr)
		return nil, te
	}
	tr := &tokenResult{
		AccessToken:  str(fields["access_token"]),
		RefreshToken: str(fields["refresh_token"]),
		IDToken:      str(fields["id_token"]),
	}
	if tr.AccessToken == "" {
		te.transient, te.err = true, errors.New("the answer has no access_token")
		return nil, te
	}
	if tt := str(fields["token_type"]); tt != "" && !strings.EqualFold(tt, "bearer") {
		te.transient, te.err = true, fmt.Errorf("unsupported token_type %q", truncate(tt, 32))
		return nil, te
	}
	if secs, ok := number(fields["expires_in"]); ok && secs > 0 && secs < maxLifetime {
		tr.Expiry = time.Now().Add(time.Duration(secs) * time.Second)
	}
	return tr, nil
}

// decodeTokenBody decodes a JSON object, or a form-encoded body when the
// answer is not JSON.
func decodeTokenBody(contentType string, body []byte) (map[string]any, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, errors.New("malformed JSON")
		}
		return m, nil
	}
	if strings.Contains(contentType, "x-www-form-urlencoded") || strings.Contains(contentType, "text/plain") {
		vals, err := url.ParseQuery(string(trimmed))
		if err != nil {
			return nil, errors.New("malformed form")
		}
		m := make(map[string]any, len(vals))
		for k := range vals {
			m[k] = vals.Get(k)
		}
		return m, nil
	}
	return nil, fmt.Errorf("not JSON (%s)", truncate(contentType, 64))
}

// postForm posts form with the client credentials.
func (p *Provider) postForm(ctx context.Context, endpoint string, form url.Values) (*http.Response, error) {
	body := url.Values{}
	for k, v := range form {
		body[k] = v
	}
	if !p.cfg.BasicAuth {
		body.Set("client_id", p.cfg.ClientID)
		if p.cfg.ClientSecret != "" {
			body.Set("client_secret", p.cfg.ClientSecret)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body.Encode()))
	if err != nil {
		cancel()
		return nil, sanitize(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if p.cfg.BasicAuth {
		req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(p.cfg.ClientSecret))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		cancel()
		return nil, sanitize(err)
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

// cancelOnClose releases a call's deadline when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// fetchJSON GETs an API endpoint with the access token and decodes its
// JSON answer (numbers as json.Number).
func (p *Provider) fetchJSON(ctx context.Context, endpoint, accessToken string) (any, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, errors.New("bad endpoint URL")
	}
	if p.cfg.TokenInQuery != "" {
		q := u.Query()
		q.Set(p.cfg.TokenInQuery, accessToken)
		u.RawQuery = q.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, sanitize(err)
	}
	req.Header.Set("Accept", "application/json")
	if p.cfg.TokenInQuery == "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, &unreachableError{sanitize(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, &unreachableError{sanitize(err)}
	}
	where := redactURL(endpoint)
	if resp.StatusCode >= 500 {
		return nil, &unreachableError{fmt.Errorf("%s answered HTTP %d", where, resp.StatusCode)}
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s answered HTTP %d", where, resp.StatusCode)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s answered with malformed JSON", where)
	}
	if m, ok := doc.(map[string]any); ok && p.cfg.ResponseCodeField != "" {
		if n, ok := number(m[p.cfg.ResponseCodeField]); ok && n != 0 {
			return nil, fmt.Errorf("%s answered %s=%d (%s)", where, p.cfg.ResponseCodeField, n,
				truncate(firstNonEmpty(str(m["msg"]), str(m["message"])), 200))
		}
	}
	return doc, nil
}

// sanitize strips the URL (whose query may hold a token) from an HTTP
// client error, keeping what it wraps for errors.Is.
func sanitize(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
	}
	return err
}

// redactURL keeps the scheme, host and path of raw: never its query.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(endpoint)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

func drain(resp *http.Response) { _, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody)) }

// str returns v if it is a string.
func str(v any) string {
	s, _ := v.(string)
	return s
}

// number reads an integer sent as a JSON number or a numeric string.
func number(v any) (int64, bool) {
	var s string
	switch t := v.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = strings.TrimSpace(t)
	case float64:
		return int64(t), true
	default:
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, _, err := big.ParseFloat(s, 10, 128, big.ToNearestEven)
	if err != nil {
		return 0, false
	}
	n, _ := f.Int64()
	return n, true
}

// truncate cuts s to at most n bytes on a rune boundary and drops control
// characters, so a provider's text is safe to log.
func truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
