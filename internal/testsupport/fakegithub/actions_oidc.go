package fakegithub

import (
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is a SHA-1 thumbprint by definition (RFC 7515 §4.1.7)
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

// ActionsPath is where the fake Actions token service is, as on GitHub
// Enterprise Server (<base_url>/_services/token): its issuer is
// URL()+ActionsPath.
const ActionsPath = "/_services/token"

// Actions is GitHub Actions' OIDC token service: discovery, the JWKS, and
// tokens shaped like the example in GitHub's documentation (RS256, typ
// JWT, kid and x5t, the job's claims).
type Actions struct {
	srv         *httptest.Server
	key         *rsa.PrivateKey
	kid         string
	jwksFetches atomic.Int64
}

// NewActions starts the token service on 127.0.0.1.
func NewActions() *Actions {
	a := &Actions{key: testsupport.RSAKey(), kid: "cc413527-173f-5a05-976e-9c52b1d7b431"}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

// Close stops the service.
func (a *Actions) Close() { a.srv.Close() }

// BaseURL is what GitHub Enterprise Server's base_url would be.
func (a *Actions) BaseURL() string { return a.srv.URL }

// Issuer is the iss of the tokens.
func (a *Actions) Issuer() string { return a.srv.URL + ActionsPath }

// JWKSFetches is how many times the keys were fetched.
func (a *Actions) JWKSFetches() int { return int(a.jwksFetches.Load()) }

func (a *Actions) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case ActionsPath + "/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                a.Issuer(),
			"jwks_uri":                              a.Issuer() + "/.well-known/jwks",
			"subject_types_supported":               []string{"public", "pairwise"},
			"response_types_supported":              []string{"id_token"},
			"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository", "repository_id", "repository_owner", "repository_owner_id", "enterprise", "enterprise_id", "run_id", "run_number", "run_attempt", "actor", "actor_id", "workflow", "workflow_ref", "workflow_sha", "head_ref", "base_ref", "event_name", "ref_type", "ref_protected", "environment", "environment_node_id", "job_workflow_ref", "job_workflow_sha", "repository_visibility", "runner_environment", "issuer_scope"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported":                      []string{"openid"},
		})
	case ActionsPath + "/.well-known/jwks":
		a.jwksFetches.Add(1)
		sum := sha1.Sum(a.key.N.Bytes()) //nolint:gosec // a thumbprint, not a security function here
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
			Key: &a.key.PublicKey, KeyID: a.kid, Algorithm: "RS256", Use: "sig",
			CertificateThumbprintSHA1: sum[:],
		}}})
	default:
		http.NotFound(w, r)
	}
}

// ActionsClaims are the claims of the token GitHub's documentation shows
// for a workflow of octo-org/octo-repo run in environment prod.
func ActionsClaims(aud string) map[string]any {
	return map[string]any{
		"jti":                   "example-id",
		"sub":                   "repo:octo-org/octo-repo:environment:prod",
		"environment":           "prod",
		"aud":                   aud,
		"ref":                   "refs/heads/main",
		"sha":                   "example-sha",
		"repository":            "octo-org/octo-repo",
		"repository_owner":      "octo-org",
		"actor_id":              "12",
		"repository_visibility": "private",
		"repository_id":         "74",
		"repository_owner_id":   "65",
		"run_id":                "example-run-id",
		"run_number":            "10",
		"run_attempt":           "2",
		"runner_environment":    "github-hosted",
		"actor":                 "octocat",
		"workflow":              "example-workflow",
		"head_ref":              "",
		"base_ref":              "",
		"event_name":            "workflow_dispatch",
		"ref_type":              "branch",
		"job_workflow_ref":      "octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
	}
}

// Token signs a token with claims over ActionsClaims(aud) (a nil value
// removes a claim), issued now by the service, valid for its usual ten
// minutes (nbf five minutes back, as GitHub's are).
func (a *Actions) Token(aud string, claims map[string]any) string {
	now := time.Now()
	c := ActionsClaims(aud)
	c["iss"] = a.Issuer()
	c["iat"] = now.Unix()
	c["nbf"] = now.Add(-5 * time.Minute).Unix()
	c["exp"] = now.Add(10 * time.Minute).Unix()
	maps.Copy(c, claims)
	for k, v := range c {
		if v == nil {
			delete(c, k)
		}
	}
	return a.Sign(c, jose.RS256, a.key, a.kid)
}

// Sign signs claims with key under alg and kid, with GitHub's header
// (typ JWT, kid, x5t): for tokens signed by the service and for forgeries.
func (a *Actions) Sign(claims map[string]any, alg jose.SignatureAlgorithm, key any, kid string) string {
	sum := sha1.Sum(a.key.N.Bytes()) //nolint:gosec // a thumbprint
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid).
		WithHeader("x5t", base64.RawURLEncoding.EncodeToString(sum[:]))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		panic(fmt.Sprintf("fakegithub: actions signer: %v", err))
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		panic(fmt.Sprintf("fakegithub: signing: %v", err))
	}
	return tok
}

// Unsigned is claims as a JWT with alg none (for the tests that must see
// it refused).
func Unsigned(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

// PublicKeyPEM is the service's public key in PEM, what an attacker uses
// as the HMAC key of the "HS256 with the public key" confusion.
func (a *Actions) PublicKeyPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(&a.key.PublicKey)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
