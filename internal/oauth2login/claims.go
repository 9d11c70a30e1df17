package oauth2login

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// checkPath validates a claim path ("" is allowed: the claim is unused).
func checkPath(path string, idToken bool) error {
	if path == "" {
		return nil
	}
	for _, seg := range strings.Split(path, ".") {
		if seg == "" {
			return fmt.Errorf("path %q has an empty segment", path)
		}
	}
	if !idToken && (path == "id_token" || strings.HasPrefix(path, "id_token.")) {
		return fmt.Errorf("path %q reads the id_token, which needs IDTokenClaims", path)
	}
	return nil
}

// lookup follows a dot-separated path into doc; numeric segments index
// arrays.
func lookup(doc any, path string) (any, bool) {
	if path == "" {
		return nil, false
	}
	cur := doc
	for _, seg := range strings.Split(path, ".") {
		switch t := cur.(type) {
		case map[string]any:
			v, ok := t[seg]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			cur = t[i]
		default:
			return nil, false
		}
	}
	return cur, cur != nil
}

func (p *Provider) claim(doc any, path string) string {
	v, _ := lookup(doc, path)
	return provider.Scalar(v)
}

// identity maps the userinfo document to an identity. The email is kept
// only when EmailVerified says it is verified.
func (p *Provider) identity(doc map[string]any) (*provider.Identity, error) {
	c := p.cfg.Claims
	sub := p.claim(doc, c.ID)
	if sub == "" {
		return nil, fmt.Errorf("the userinfo answer has no %q claim", c.ID)
	}
	id := &provider.Identity{
		Subject:  sub,
		Username: p.claim(doc, c.Login),
		Name:     p.claim(doc, c.Name),
		Picture:  p.claim(doc, c.Avatar),
	}
	if c.Groups != "" {
		v, _ := lookup(doc, c.Groups)
		id.Groups = provider.Strings(v)
	}
	if p.cfg.EmailVerified != "" {
		if v, _ := lookup(doc, p.cfg.EmailVerified); provider.Verified(v) {
			if email := p.claim(doc, c.Email); email != "" {
				id.Email, id.EmailVerified = email, true
			}
		}
	}
	return id, nil
}

// idTokenClaims decodes the payload of an id_token received from the token
// endpoint and checks what can be checked without its signature: the
// audience, the subject against the userinfo one and the nonce.
func (p *Provider) idTokenClaims(raw string, userinfo map[string]any, nonce string) (map[string]any, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errors.New("the id_token is not a JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, errors.New("the id_token payload is not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		return nil, errors.New("the id_token payload is not a JSON object")
	}
	audOK := false
	switch aud := claims["aud"].(type) {
	case string:
		audOK = aud == p.cfg.ClientID
	case []any:
		for _, a := range aud {
			audOK = audOK || a == p.cfg.ClientID
		}
	}
	if !audOK {
		return nil, errors.New("the id_token is not for this client")
	}
	if us, is := provider.Scalar(userinfo["sub"]), provider.Scalar(claims["sub"]); us != "" && is != "" && us != is {
		return nil, errors.New("the id_token sub differs from the userinfo sub")
	}
	if nonce != "" {
		got := str(claims["nonce"])
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
			return nil, errors.New("the id_token nonce does not match the login")
		}
	}
	return claims, nil
}
