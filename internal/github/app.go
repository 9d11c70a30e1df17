package github

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	// minAppKeyBits is the smallest RSA key ParseApp accepts (GitHub
	// generates 2048-bit keys).
	minAppKeyBits = 2048
	// appJWTBackdate is how far iat is set in the past, for clock drift.
	appJWTBackdate = 60 * time.Second
	// appJWTLifetime is how far exp is set in the future (GitHub allows at
	// most 10 minutes).
	appJWTLifetime = 9 * time.Minute
)

// App is a GitHub App's identity for server-to-server calls: its ID and
// private key. It is safe for concurrent use.
type App struct {
	// ID is the app ID (or client ID), sent as the JWT issuer.
	ID string

	signer jose.Signer
}

// ParseApp reads a GitHub App's private key, PEM-encoded PKCS#1 ("RSA
// PRIVATE KEY", as GitHub issues it) or PKCS#8 ("PRIVATE KEY") holding an
// RSA key of at least 2048 bits. id is the app ID or client ID. Errors say
// what is wrong without echoing key material.
func ParseApp(id string, privateKeyPEM []byte) (*App, error) {
	if id == "" {
		return nil, errors.New("github: app ID is empty")
	}
	if len(id) > 100 || strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return nil, errors.New("github: app ID contains spaces or control characters or is too long")
	}
	key, err := parseRSAKey(privateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("github: app %s private key: %w", id, err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("github: app %s: creating RS256 signer: %w", id, err)
	}
	return &App{ID: id, signer: signer}, nil
}

// parseRSAKey finds the first private key block in data and parses it.
func parseRSAKey(data []byte) (*rsa.PrivateKey, error) {
	var seen []string
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		seen = append(seen, fmt.Sprintf("%q", block.Type))
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			continue
		}
		if block.Headers["Proc-Type"] != "" || block.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, errors.New("the PEM block is encrypted; use the unencrypted key GitHub issued")
		}
		var key any
		var err error
		switch block.Type {
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		default:
			return nil, fmt.Errorf("PEM block type %q is not an RSA key (want \"RSA PRIVATE KEY\" or \"PRIVATE KEY\")", block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("malformed %s block: %w", block.Type, err)
		}
		rk, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("the PKCS#8 key is %T, not RSA", key)
		}
		if bits := rk.N.BitLen(); bits < minAppKeyBits {
			return nil, fmt.Errorf("RSA key has %d bits; at least %d are required", bits, minAppKeyBits)
		}
		return rk, nil
	}
	if len(seen) == 0 {
		return nil, errors.New("no PEM block found")
	}
	return nil, fmt.Errorf("no private key among the PEM blocks (found %s)", strings.Join(seen, ", "))
}

// JWT returns a JWT authenticating as the app, signed RS256 with go-jose:
// iss = the app ID, iat = now - 60 s (for clock drift), exp = now + 9 min
// (GitHub allows at most 10).
func (a *App) JWT(now time.Time) (string, error) {
	claims := jwt.Claims{
		Issuer:   a.ID,
		IssuedAt: jwt.NewNumericDate(now.Add(-appJWTBackdate)),
		Expiry:   jwt.NewNumericDate(now.Add(appJWTLifetime)),
	}
	token, err := jwt.Signed(a.signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("github: signing app %s JWT: %w", a.ID, err)
	}
	return token, nil
}

// InstallationToken creates an installation access token (ghs_…) with the
// app's JWT (POST /app/installations/{id}/access_tokens) and returns it
// with its expiry (one hour after issue).
func (c *Client) InstallationToken(ctx context.Context, appJWT string, installationID int64) (string, time.Time, error) {
	if installationID <= 0 {
		return "", time.Time{}, errorf("installation ID %d is not positive", installationID)
	}
	path := fmt.Sprintf("/app/installations/%d/access_tokens", installationID)
	resp, err := c.do(ctx, http.MethodPost, c.apiURL(path), appJWT, nil)
	if err != nil {
		return "", time.Time{}, errorf("POST %s: %w", path, err)
	}
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(resp.body, &out); err != nil {
		return "", time.Time{}, errorf("POST %s: decoding response: %w", path, err)
	}
	if out.Token == "" || out.ExpiresAt.IsZero() {
		return "", time.Time{}, errorf("POST %s: response has no token or expires_at", path)
	}
	return out.Token, out.ExpiresAt, nil
}

// InstallationRepos returns the repositories an installation can access
// (GET /installation/repositories, all pages), called with an
// installation token from [Client.InstallationToken].
func (c *Client) InstallationRepos(ctx context.Context, installationToken string) ([]Repo, error) {
	return paginate(ctx, c, "/installation/repositories", installationToken, decodeRepos)
}
