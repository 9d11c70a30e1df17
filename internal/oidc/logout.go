package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/jwks"
	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// BackchannelLogoutEvent is the member of a logout token's events claim
// that makes it one (OpenID Connect Back-Channel Logout 1.0, §2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutTypes are the JOSE typ values accepted on a logout token,
// compared without case: the spec's logout+jwt (with or without its
// application/ prefix, RFC 7515 §4.1.9), and JWT, which Ory Hydra and
// older Keycloak releases send. A token without typ is accepted too. Any
// other type (an access token's at+jwt, say) is refused.
var logoutTypes = []string{"logout+jwt", "application/logout+jwt", "jwt"}

// VerifyLogoutToken implements [provider.LogoutVerifier] as Back-Channel
// Logout 1.0 §2.6 says, accepting tokens as Ory Hydra sends them: the
// signature by a key of the provider's JWKS with an algorithm its
// id_tokens may use (never none, never an HMAC), the typ header, iss
// (Issuer or an alias), aud containing the client id, then the claims
// (see checkLogoutClaims). exp is not required.
func (p *Provider) VerifyLogoutToken(ctx context.Context, raw string) (*provider.LogoutClaims, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	if err := checkLogoutType(raw, d.algs); err != nil {
		return nil, invalidLogoutToken(err)
	}
	vctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	vctx, fetchErr := jwks.WatchFetch(vctx)
	tok, err := d.lv.Verify(vctx, raw)
	if err != nil {
		if ferr := fetchErr(); ferr != nil {
			return nil, unavailable(fmt.Errorf("fetching the provider's signing keys: %w", ferr))
		}
		return nil, invalidLogoutToken(fmt.Errorf("verifying: %w", err))
	}
	if !slices.Contains(p.issuers, tok.Issuer) {
		return nil, invalidLogoutToken(fmt.Errorf("issued by %q, expected one of %q", tok.Issuer, p.issuers))
	}
	var payload json.RawMessage
	if err := tok.Claims(&payload); err != nil {
		return nil, invalidLogoutToken(fmt.Errorf("decoding claims: %w", err))
	}
	c, err := checkLogoutClaims(payload, time.Now())
	if err != nil {
		return nil, invalidLogoutToken(err)
	}
	return c, nil
}

// invalidLogoutToken is the error of a logout token that does not verify.
func invalidLogoutToken(err error) *provider.Error {
	return &provider.Error{Code: provider.ErrCodeInvalidLogoutToken, Status: http.StatusBadRequest, Err: err}
}

// checkLogoutType checks the JOSE header's typ of raw, a JWS signed with
// one of algs, before its signature is (see logoutTypes).
func checkLogoutType(raw string, algs []string) error {
	allowed := make([]jose.SignatureAlgorithm, len(algs))
	for i, a := range algs {
		allowed[i] = jose.SignatureAlgorithm(a)
	}
	jws, err := jose.ParseSigned(raw, allowed)
	if err != nil {
		return fmt.Errorf("malformed or not signed with an accepted algorithm (%s): %w", strings.Join(algs, ", "), err)
	}
	if len(jws.Signatures) != 1 {
		return fmt.Errorf("%d signatures, want 1", len(jws.Signatures))
	}
	typ, present := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType]
	if !present {
		return nil
	}
	s, ok := typ.(string)
	if !ok || !slices.Contains(logoutTypes, strings.ToLower(s)) {
		return fmt.Errorf("typ %q is not a logout token's (logout+jwt or JWT)", fmt.Sprint(typ))
	}
	return nil
}

// logoutPayload is the part of a logout token's claims checkLogoutClaims
// reads; the times are pointers to tell a missing claim from a zero one.
type logoutPayload struct {
	Subject   *string                    `json:"sub"`
	Session   *string                    `json:"sid"`
	ID        *string                    `json:"jti"`
	IssuedAt  *json.Number               `json:"iat"`
	Expiry    *json.Number               `json:"exp"`
	NotBefore *json.Number               `json:"nbf"`
	Events    map[string]json.RawMessage `json:"events"`
}

// checkLogoutClaims checks the claims of a logout token whose signature,
// iss and aud were verified, at now (Back-Channel Logout 1.0 §2.4, §2.6):
//
//   - iat present, at most provider.LogoutTokenMaxAge old and at most
//     provider.LogoutTokenSkew ahead of now;
//   - exp, when present, not more than LogoutTokenSkew past (exp is not
//     required: Ory Hydra sends none); nbf, when present, not ahead by more
//     than the skew;
//   - jti present and not empty;
//   - events holding the back-channel logout event as a JSON object;
//   - no nonce, whatever its value (an id_token is not a logout token);
//   - sid or sub, each a non-empty string when present.
func checkLogoutClaims(payload []byte, now time.Time) (*provider.LogoutClaims, error) {
	var present map[string]json.RawMessage
	if err := json.Unmarshal(payload, &present); err != nil {
		return nil, fmt.Errorf("claims are not a JSON object: %w", err)
	}
	if _, ok := present["nonce"]; ok {
		return nil, errors.New("has a nonce, which a logout token must not have")
	}
	var c logoutPayload
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("decoding claims: %w", err)
	}
	out := new(provider.LogoutClaims)

	iat, err := numericDate("iat", c.IssuedAt)
	switch {
	case err != nil:
		return nil, err
	case iat.IsZero():
		return nil, errors.New("has no iat")
	case iat.Before(now.Add(-provider.LogoutTokenMaxAge)):
		return nil, fmt.Errorf("issued %v ago, more than %v", now.Sub(iat).Round(time.Second), provider.LogoutTokenMaxAge)
	case iat.After(now.Add(provider.LogoutTokenSkew)):
		return nil, fmt.Errorf("issued %v in the future", iat.Sub(now).Round(time.Second))
	}
	out.IssuedAt = iat
	exp, err := numericDate("exp", c.Expiry)
	switch {
	case err != nil:
		return nil, err
	case c.Expiry != nil && exp.Before(now.Add(-provider.LogoutTokenSkew)):
		return nil, fmt.Errorf("expired %v ago", now.Sub(exp).Round(time.Second))
	}
	out.Expiry = exp
	nbf, err := numericDate("nbf", c.NotBefore)
	switch {
	case err != nil:
		return nil, err
	case c.NotBefore != nil && nbf.After(now.Add(provider.LogoutTokenSkew)):
		return nil, fmt.Errorf("not valid before %v from now", nbf.Sub(now).Round(time.Second))
	}

	if c.ID == nil || *c.ID == "" {
		return nil, errors.New("has no jti")
	}
	out.ID = *c.ID

	ev, ok := c.Events[BackchannelLogoutEvent]
	if !ok {
		return nil, fmt.Errorf("events does not hold %s", BackchannelLogoutEvent)
	}
	var member map[string]json.RawMessage
	if err := json.Unmarshal(ev, &member); err != nil || member == nil {
		return nil, fmt.Errorf("the %s event is not a JSON object", BackchannelLogoutEvent)
	}

	for name, v := range map[string]*string{"sid": c.Session, "sub": c.Subject} {
		if v != nil && *v == "" {
			return nil, fmt.Errorf("%s is empty", name)
		}
	}
	if c.Session == nil && c.Subject == nil {
		return nil, errors.New("has neither sid nor sub")
	}
	if c.Session != nil {
		out.Session = *c.Session
	}
	if c.Subject != nil {
		out.Subject = *c.Subject
	}
	return out, nil
}

// numericDate reads a NumericDate claim (seconds since the epoch, maybe
// with a fraction); the zero time when it is absent.
func numericDate(name string, n *json.Number) (time.Time, error) {
	if n == nil {
		return time.Time{}, nil
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, fmt.Errorf("%s is not a number", name)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
}
