package github

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// readFixture reads testdata/name.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventOfFixture is the X-GitHub-Event of a fixture named
// <event>.<action>[.<variant>].json.
func eventOfFixture(name string) string {
	event, _, _ := strings.Cut(name, ".")
	return event
}

func TestParseEveryFixture(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			ev, err := Parse(eventOfFixture(name), readFixture(t, name))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if ev == nil {
				t.Fatal("Parse returned nil event")
			}
		})
	}
}

func TestParseFixtureContents(t *testing.T) {
	codertocat := Account{ID: 21031067, Login: "Codertocat", Type: "User"}
	octocat := Account{ID: 1, Login: "octocat", Type: "User"}
	created := time.Unix(1557933591, 0).UTC()
	suspendedAt := time.Date(2021, 4, 29, 2, 32, 50, 0, time.UTC)
	helloWorld := []Repo{{ID: 186853002, FullName: "Codertocat/Hello-World"}}
	inst957387 := Installation{ID: 957387, AccountLogin: "Codertocat", AccountID: 21031067, AccountType: "User",
		AppID: 29310, RepositorySelection: "selected", CreatedAt: created}

	tests := []struct {
		file string
		want any
	}{
		{"installation.created.json", &InstallationEvent{
			Action: "created", Installation: inst957387, Repositories: helloWorld, Sender: codertocat}},
		{"installation.created.with-requester.json", &InstallationEvent{
			Action: "created", Installation: inst957387, Repositories: helloWorld, Requester: &codertocat, Sender: codertocat}},
		{"installation.deleted.json", &InstallationEvent{
			Action: "deleted",
			Installation: Installation{ID: 2, AccountLogin: "octocat", AccountID: 1, AccountType: "User", AppID: 5725,
				RepositorySelection: "selected", CreatedAt: time.Unix(1525109898, 0).UTC()},
			Repositories: []Repo{{ID: 1296269, FullName: "octocat/Hello-World"}}, Sender: octocat}},
		{"installation_repositories.added.json", &InstallationRepositoriesEvent{
			Action: "added", Installation: inst957387, RepositorySelection: "selected",
			RepositoriesAdded:   []Repo{{ID: 186853007, FullName: "Codertocat/Space"}},
			RepositoriesRemoved: []Repo{}, Requester: &codertocat, Sender: codertocat}},
		{"installation_repositories.removed.json", &InstallationRepositoriesEvent{
			Action: "removed",
			Installation: Installation{ID: 2, AccountLogin: "octocat", AccountID: 1, AccountType: "User", AppID: 5725,
				RepositorySelection: "selected", CreatedAt: time.Unix(1525109898, 0).UTC()},
			RepositorySelection: "selected", RepositoriesAdded: []Repo{},
			RepositoriesRemoved: []Repo{{ID: 1296269, FullName: "octocat/Hello-World"}}, Sender: octocat}},
		{"github_app_authorization.revoked.json", &AppAuthorizationEvent{Action: "revoked", Sender: octocat}},
		{"ping.with-app_id.json", &PingEvent{HookID: 109948940, Zen: "Anything added dilutes everything else.", AppID: 29310}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Parse(eventOfFixture(tt.file), readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}

	t.Run("suspend has ISO timestamps and suspended_at", func(t *testing.T) {
		got, err := Parse(EventInstallation, readFixture(t, "installation.suspend.json"))
		if err != nil {
			t.Fatal(err)
		}
		ev := got.(*InstallationEvent)
		if ev.Action != "suspend" || ev.Installation.SuspendedAt == nil || !ev.Installation.SuspendedAt.Equal(suspendedAt) {
			t.Errorf("action %q, suspended_at %v; want suspend at %v", ev.Action, ev.Installation.SuspendedAt, suspendedAt)
		}
		if want := time.Date(2021, 4, 29, 2, 32, 21, 0, time.UTC); !ev.Installation.CreatedAt.Equal(want) {
			t.Errorf("created_at %v, want %v", ev.Installation.CreatedAt, want)
		}
		if ev.Repositories != nil {
			t.Errorf("repositories = %v, want nil (not in payload)", ev.Repositories)
		}
	})
	t.Run("unsuspend clears suspended_at", func(t *testing.T) {
		got, err := Parse(EventInstallation, readFixture(t, "installation.unsuspend.json"))
		if err != nil {
			t.Fatal(err)
		}
		if ev := got.(*InstallationEvent); ev.Action != "unsuspend" || ev.Installation.SuspendedAt != nil {
			t.Errorf("action %q, suspended_at %v", ev.Action, ev.Installation.SuspendedAt)
		}
	})
}

// installationTargetRenamed follows octokit/webhooks'
// installation_target/renamed schema (there is no example payload).
const installationTargetRenamed = `{
  "action": "renamed",
  "account": {"login": "new-org", "id": 38302899, "node_id": "MDEyOk9yZ2FuaXphdGlvbjM4MzAyODk5", "type": "Organization"},
  "changes": {"login": {"from": "old-org"}},
  "installation": {"id": 957387, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uOTU3Mzg3"},
  "target_type": "Organization",
  "sender": {"login": "Codertocat", "id": 21031067, "type": "User"}
}`

func TestParseInstallationTarget(t *testing.T) {
	got, err := Parse(EventInstallationTarget, []byte(installationTargetRenamed))
	if err != nil {
		t.Fatal(err)
	}
	want := &InstallationTargetEvent{
		Action:         "renamed",
		Account:        Account{ID: 38302899, Login: "new-org", Type: "Organization"},
		FromLogin:      "old-org",
		InstallationID: 957387,
		TargetType:     "Organization",
		Sender:         Account{ID: 21031067, Login: "Codertocat", Type: "User"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseCreatedAtEpochOrISO(t *testing.T) {
	for _, createdAt := range []string{`1557933591`, `"2019-05-15T15:19:51Z"`, `"2019-05-15T11:19:51.000-04:00"`} {
		body := `{"action":"created","installation":{"id":1,"account":{"login":"a","id":2,"type":"User"},"created_at":` + createdAt + `},"sender":{"login":"a","id":2}}`
		got, err := Parse(EventInstallation, []byte(body))
		if err != nil {
			t.Fatalf("created_at %s: %v", createdAt, err)
		}
		if want := time.Unix(1557933591, 0); !got.(*InstallationEvent).Installation.CreatedAt.Equal(want) {
			t.Errorf("created_at %s: got %v, want %v", createdAt, got.(*InstallationEvent).Installation.CreatedAt, want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, event, body string
	}{
		{"not JSON", EventInstallation, `{"action":`},
		{"array", EventInstallation, `[]`},
		{"null", EventInstallation, `null`},
		{"trailing data", EventPing, `{"hook_id":1} {}`},
		{"installation without action", EventInstallation, `{"installation":{"id":1}}`},
		{"installation without installation", EventInstallation, `{"action":"created"}`},
		{"installation id zero", EventInstallation, `{"action":"created","installation":{"id":0}}`},
		{"installation id string", EventInstallation, `{"action":"created","installation":{"id":"1"}}`},
		{"bad created_at", EventInstallation, `{"action":"created","installation":{"id":1,"created_at":"soon"}}`},
		{"repo without id", EventInstallation, `{"action":"created","installation":{"id":1},"repositories":[{"full_name":"a/b"}]}`},
		{"repo without name", EventInstallationRepositories, `{"action":"added","installation":{"id":1},"repositories_added":[{"id":3}]}`},
		{"repositories without installation", EventInstallationRepositories, `{"action":"added"}`},
		{"target without account", EventInstallationTarget, `{"action":"renamed","installation":{"id":1}}`},
		{"target without installation", EventInstallationTarget, `{"action":"renamed","account":{"id":1,"login":"x"}}`},
		{"authorization without sender", EventAppAuthorization, `{"action":"revoked"}`},
		{"authorization without action", EventAppAuthorization, `{"sender":{"id":1,"login":"x"}}`},
		{"ping without hook_id", EventPing, `{"zen":"x"}`},
		{"empty body", EventPing, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Parse(tt.event, []byte(tt.body))
			if err == nil {
				t.Fatalf("accepted: %+v", ev)
			}
			if ev != nil {
				t.Errorf("event %+v returned with error", ev)
			}
			if errors.Is(err, ErrUnhandledEvent) {
				t.Errorf("error %v is ErrUnhandledEvent", err)
			}
		})
	}
}

func TestParseUnhandledEvent(t *testing.T) {
	for _, event := range []string{"push", "pull_request", "", "Installation", "installation "} {
		ev, err := Parse(event, []byte(`{"action":"created","installation":{"id":1}}`))
		if ev != nil || !errors.Is(err, ErrUnhandledEvent) {
			t.Errorf("Parse(%q) = %v, %v; want nil, ErrUnhandledEvent", event, ev, err)
		}
	}
}
