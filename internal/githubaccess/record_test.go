package githubaccess

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/github/directory"
	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/session"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
)

// sessionWrites calls onWrite whenever a stored session is rewritten
// (SetXX of a session key), before the write.
type sessionWrites struct {
	store.Store
	onWrite func()
}

func (s *sessionWrites) SetXX(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	if strings.Contains(key, "session:") && s.onWrite != nil {
		s.onWrite()
	}
	return s.Store.SetXX(ctx, key, v, ttl)
}

// approvalUser is the user whose approval the tests end.
const approvalUser = "corp:alice"

// approvedAccess is approvalUser's access once the approval ends:
// acme/api through installation 77.
var approvedAccess = map[int64][]directory.Repo{77: {{GitHubRepoID: 1, FullName: "acme/api", InstallationID: 77, OwnerID: approvalUser}}}

// pendingApproval is a service whose store reports session writes, with
// approvalUser (GitHub account ghID, none when 0) waiting for an owner's
// approval and signed in with the returned session token.
func pendingApproval(t *testing.T, ghID int64) (*Service, *sessionWrites, string) {
	t.Helper()
	ctx := context.Background()
	mem := storetest.NewMemory(t)
	st := &sessionWrites{Store: mem}
	svc := instance(t, st, newFake(t, nil), nil)
	if _, err := svc.opts.Directory.UpdateUser(ctx, approvalUser, func(u *directory.User) error {
		u.GitHubID, u.PendingInstallationRequest = ghID, true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tok, err := svc.opts.Sessions.Create(ctx, &session.Session{User: identity.User{UserID: approvalUser, Provider: "corp"}, Host: "app.example"})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st, tok
}

// approvalPending reports whether approvalUser's approval is pending in
// the directory.
func approvalPending(ctx context.Context, svc *Service) bool {
	u, err := svc.opts.Directory.User(ctx, approvalUser)
	return err == nil && u.PendingInstallationRequest
}

// When an owner's approval ends, the user's status turns ready (no
// approval pending) only once the sessions carry the repositories: a
// status poll that says ready is never followed by a request without
// X-Auth-Repos.
func TestApprovalEndsAfterSessionsCarryRepos(t *testing.T) {
	ctx := context.Background()
	svc, st, tok := pendingApproval(t, 0)

	writes, pendingAtWrite := 0, false
	st.onWrite = func() {
		writes++
		pendingAtWrite = approvalPending(ctx, svc)
	}
	if _, err := svc.record(ctx, approvalUser, approvedAccess, false, nil); err != nil {
		t.Fatal(err)
	}
	st.onWrite = nil
	if writes == 0 || !pendingAtWrite {
		t.Fatalf("the session was written %d times; approval still pending then: %v (want true: ready only after)", writes, pendingAtWrite)
	}
	u, _ := svc.opts.Directory.User(ctx, approvalUser)
	s, err := svc.opts.Sessions.Load(ctx, tok)
	if err != nil || u.PendingInstallationRequest || len(s.Repos) != 1 {
		t.Fatalf("after record: pending=%v, session repos %v (%v)", u.PendingInstallationRequest, s.Repos, err)
	}
}

// A sync that finds an approval pending again while an older one that
// ended it is still writing wins: the older one does not clear the flag.
func TestOlderSyncKeepsNewerPending(t *testing.T) {
	ctx := context.Background()
	svc, st, _ := pendingApproval(t, 0)
	base := time.Now()
	svc.now = func() time.Time { return base }
	st.onWrite = func() {
		st.onWrite = nil
		svc.now = func() time.Time { return base.Add(time.Second) } // the newer sync
		if _, err := svc.record(ctx, approvalUser, nil, true, nil); err != nil {
			t.Error(err)
		}
	}
	if _, err := svc.record(ctx, approvalUser, approvedAccess, false, nil); err != nil {
		t.Fatal(err)
	}
	if u, _ := svc.opts.Directory.User(ctx, approvalUser); !u.PendingInstallationRequest {
		t.Fatal("the older sync cleared the pending approval the newer one found")
	}
}

// The installation webhook that ends an approval (the owner installed the
// App the user asked for) also clears the pending flag only once the
// sessions carry the installation's repositories.
func TestInstallationCreatedEndsApprovalAfterSessions(t *testing.T) {
	ctx := context.Background()
	svc, st, tok := pendingApproval(t, 1001)
	pendingAtWrite := false
	st.onWrite = func() {
		pendingAtWrite = approvalPending(ctx, svc)
	}
	body := []byte(`{"action":"created","installation":{"id":78,"account":{"login":"acme","id":500,"type":"Organization"},"app_id":42,"target_type":"Organization","repository_selection":"selected"},"repositories":[{"id":5,"full_name":"acme/web","name":"web","private":true}],"requester":{"login":"alice","id":1001,"type":"User"},"sender":{"login":"owner","id":9,"type":"User"}}`)
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "installation")
	req.Header.Set("X-GitHub-Delivery", "approval")
	req.Header.Set("X-Hub-Signature-256", fakegithub.SignGitHubBody(hookSecret, body))
	if code := svc.Webhook(ctx, req); code != http.StatusOK {
		t.Fatalf("webhook: %d", code)
	}
	st.onWrite = nil
	if !pendingAtWrite {
		t.Fatal("the approval ended before the sessions carried the repositories")
	}
	u, _ := svc.opts.Directory.User(ctx, approvalUser)
	s, err := svc.opts.Sessions.Load(ctx, tok)
	if err != nil || u.PendingInstallationRequest || !slices.Contains(s.Repos, "acme/web") {
		t.Fatalf("after the webhook: pending=%v, session repos %v (%v)", u.PendingInstallationRequest, s.Repos, err)
	}
}
