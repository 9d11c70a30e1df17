package githubaccess

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/github"
	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const hookSecret = "hook-secret"

// instance is one Gatehouse instance's GitHub service over a shared store.
func instance(t *testing.T, st store.Store, gh *fakegithub.GitHub, app *github.App) *Service {
	t.Helper()
	ring, err := keys.Derive("0123456789abcdef0123456789abcdef-github")
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{
		App: &AppConfig{
			ClientID: "Iv1.app", ClientSecret: "app-secret", WebhookSecret: []byte(hookSecret),
			Endpoints: gh.Endpoints(), App: app,
		},
		Directory: directory.New(st, ring, "t:"),
		Sessions:  session.NewManager(session.Options{Store: st, Ring: ring, KeyPrefix: "t:"}),
		Store:     st,
		KeyPrefix: "t:",
	})
}

func redisStore(t *testing.T) store.Store {
	t.Helper()
	redistest.Shared.FlushAll(t)
	r, err := store.OpenRedis(store.RedisOptions{Addrs: []string{redistest.Shared.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// connected returns a fake GitHub where alice has authorized the App and
// the user record holding her token, as after Connect.
func connected(t *testing.T, svc *Service, gh *fakegithub.GitHub) {
	t.Helper()
	gh.SetAutoLogin("alice")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).
		Get(svc.AppAuthURL("http://app.example/cb", "st", "verifier-verifier-verifier-verifier-verifier"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	sess := &session.Session{User: identity.User{UserID: "corp:alice", Provider: "corp"}}
	if _, err := svc.Connect(context.Background(), sess, loc.Query().Get("code"), "http://app.example/cb", "verifier-verifier-verifier-verifier-verifier"); err != nil {
		t.Fatal(err)
	}
}

func newFake(t *testing.T, pub *rsa.PublicKey) *fakegithub.GitHub {
	gh := fakegithub.NewGitHub()
	t.Cleanup(gh.Close)
	gh.AddGitHubApp(42, "Iv1.app", "app-secret", pub)
	gh.AddUser(fakegithub.GitHubUser{ID: 1001, Login: "alice", Emails: []fakegithub.GitHubEmail{{Email: "a@x.example", Primary: true, Verified: true}}})
	gh.AddInstallation(fakegithub.GitHubInstallation{ID: 77, AccountLogin: "acme", AccountID: 500, AccountType: "Organization",
		Repos: []fakegithub.GitHubRepo{{ID: 1, FullName: "acme/api"}}})
	gh.GrantInstallation("alice", 77)
	return gh
}

// Two instances sharing Redis, 50 concurrent callers, an expired App
// token: GitHub's token endpoint is called exactly once, and every caller
// ends with the repositories.
func TestTokenRefreshedOnceAcrossInstances(t *testing.T) {
	gh := newFake(t, nil)
	st := redisStore(t)
	a, b := instance(t, st, gh, nil), instance(t, st, gh, nil)
	connected(t, a, gh)
	gh.ExpireUserTokens("alice")
	gh.SetTokenDelay(300 * time.Millisecond) // a slow refresh widens the race
	before := gh.Requests("/login/oauth/access_token")

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		svc := a
		if i%2 == 1 {
			svc = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			repos, err := svc.syncUser(context.Background(), "corp:alice")
			if err == nil && (len(repos) != 1 || repos[0].FullName != "acme/api") {
				err = errUnexpected(repos)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := gh.Requests("/login/oauth/access_token") - before; n != 1 {
		t.Fatalf("token endpoint called %d times, want 1", n)
	}
}

type errUnexpected []directory.Repo

func (e errUnexpected) Error() string { return "unexpected repositories" }

// Every real GitHub App payload in the fixtures is accepted through the
// whole webhook path (signature, de-duplication, parsing, applying).
func TestRealPayloadsApply(t *testing.T) {
	gh := newFake(t, nil)
	svc := instance(t, store.NewMemory(), gh, nil)
	files, _ := filepath.Glob("../github/testdata/*.json")
	if len(files) < 9 {
		t.Fatalf("fixtures: %v", files)
	}
	for i, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		event := filepath.Base(f)
		event = event[:bytes.IndexByte([]byte(event), '.')]
		req := httptest.NewRequest(http.MethodPost, "/.gatehouse/webhooks/github", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-GitHub-Delivery", "fixture-"+string(rune('a'+i)))
		req.Header.Set("X-Hub-Signature-256", fakegithub.SignGitHubBody(hookSecret, body))
		if code := svc.Webhook(context.Background(), req); code != http.StatusOK {
			t.Errorf("%s: %d", filepath.Base(f), code)
		}
	}
}

// installation.created without a repository list: the App's private key
// mints an installation token and the repositories are listed with it.
func TestInstallationReposThroughAppKey(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	app, err := github.ParseApp("42", pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	gh := newFake(t, &key.PublicKey)
	st := store.NewMemory()
	svc := instance(t, st, gh, app)
	body := []byte(`{"action":"created","installation":{"id":77,"account":{"login":"acme","id":500,"type":"Organization"},"app_id":42,"target_type":"Organization","repository_selection":"all"},"sender":{"login":"owner","id":9,"type":"User"}}`)
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "installation")
	req.Header.Set("X-GitHub-Delivery", "d1")
	req.Header.Set("X-Hub-Signature-256", fakegithub.SignGitHubBody(hookSecret, body))
	if code := svc.Webhook(context.Background(), req); code != http.StatusOK {
		t.Fatalf("webhook: %d", code)
	}
	in, err := svc.opts.Directory.Installation(context.Background(), 77)
	if err != nil || len(in.Repos) != 1 || in.Repos[0].FullName != "acme/api" || in.AccountLogin != "acme" {
		t.Fatalf("installation record: %+v %v", in, err)
	}
}

// The same repository added twice (two deliveries, e.g. after a re-install)
// is recorded once.
func TestRepeatedAddKeepsOneCopy(t *testing.T) {
	gh := newFake(t, nil)
	svc := instance(t, store.NewMemory(), gh, nil)
	body := []byte(`{"action":"added","installation":{"id":77,"account":{"login":"acme","id":500,"type":"Organization"}},"repository_selection":"selected","repositories_added":[{"id":3,"full_name":"acme/docs","name":"docs","private":false}],"repositories_removed":[],"sender":{"login":"owner","id":9,"type":"User"}}`)
	for _, id := range []string{"a", "b", "c"} {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "installation_repositories")
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-Hub-Signature-256", fakegithub.SignGitHubBody(hookSecret, body))
		if code := svc.Webhook(context.Background(), req); code != http.StatusOK {
			t.Fatalf("delivery %s: %d", id, code)
		}
	}
	in, err := svc.opts.Directory.Installation(context.Background(), 77)
	if err != nil || len(in.Repos) != 1 {
		t.Fatalf("installation repos after three adds: %+v %v", in, err)
	}
}
