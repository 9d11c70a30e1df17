package github

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Webhook event names (the X-GitHub-Event header) that [Parse] decodes.
const (
	EventInstallation             = "installation"
	EventInstallationRepositories = "installation_repositories"
	EventInstallationTarget       = "installation_target"
	EventAppAuthorization         = "github_app_authorization"
	EventPing                     = "ping"
)

// ErrUnhandledEvent is returned by [Parse] for events it does not decode;
// answer such deliveries with 2xx and ignore them.
var ErrUnhandledEvent = errors.New("github: unhandled webhook event")

// Account is a user or organization named in a webhook.
type Account struct {
	// ID is the numeric account ID.
	ID int64
	// Login is the account's login.
	Login string
	// Type is "User", "Organization" or "Bot" ("" when not sent).
	Type string
}

// InstallationEvent is an "installation" delivery: actions created,
// deleted, suspend, unsuspend, new_permissions_accepted.
type InstallationEvent struct {
	// Action is what happened.
	Action string
	// Installation is the installation concerned.
	Installation Installation
	// Repositories lists the repositories the installation can access,
	// when GitHub includes them (created, deleted,
	// new_permissions_accepted with repository_selection "selected"); nil
	// otherwise.
	Repositories []Repo
	// Requester is who asked for the installation when an org owner
	// approved it ("created" after a request); nil otherwise.
	Requester *Account
	// Sender is who triggered the event.
	Sender Account
}

// InstallationRepositoriesEvent is an "installation_repositories"
// delivery: actions added, removed.
type InstallationRepositoriesEvent struct {
	// Action is "added" or "removed".
	Action string
	// Installation is the installation concerned.
	Installation Installation
	// RepositorySelection is "all" or "selected".
	RepositorySelection string
	// RepositoriesAdded and RepositoriesRemoved are the changes.
	RepositoriesAdded, RepositoriesRemoved []Repo
	// Requester is who asked for the change, or nil.
	Requester *Account
	// Sender is who triggered the event.
	Sender Account
}

// InstallationTargetEvent is an "installation_target" delivery: the
// account an installation is on was renamed (action "renamed").
type InstallationTargetEvent struct {
	// Action is "renamed".
	Action string
	// Account is the renamed account, with its new login.
	Account Account
	// FromLogin is the previous login (changes.login.from; "" when the
	// login did not change).
	FromLogin string
	// InstallationID is the installation on that account.
	InstallationID int64
	// TargetType is "User" or "Organization".
	TargetType string
	// Sender is who triggered the event.
	Sender Account
}

// AppAuthorizationEvent is a "github_app_authorization" delivery: the
// user (Sender) revoked their authorization of the app (action
// "revoked"), so their user tokens are dead.
type AppAuthorizationEvent struct {
	// Action is "revoked".
	Action string
	// Sender is the user who revoked the authorization.
	Sender Account
}

// PingEvent is the "ping" delivery GitHub sends when a webhook is created.
type PingEvent struct {
	// HookID is the webhook's ID.
	HookID int64
	// Zen is a random GitHub koan.
	Zen string
	// AppID is the GitHub App the webhook belongs to (0 for repository or
	// organization webhooks).
	AppID int64
}

// accountJSON converts an account object ("login", or "slug" for an
// enterprise).
func (a *account) account() Account {
	login := a.Login
	if login == "" {
		login = a.Slug
	}
	return Account{ID: a.ID, Login: login, Type: a.Type}
}

// optionalAccount converts a possibly null account.
func optionalAccount(a *account) *Account {
	if a == nil {
		return nil
	}
	acc := a.account()
	return &acc
}

// Parse decodes a webhook delivery of the named event (the X-GitHub-Event
// header) into *[InstallationEvent], *[InstallationRepositoriesEvent],
// *[InstallationTargetEvent], *[AppAuthorizationEvent] or *[PingEvent].
// Other events give (nil, [ErrUnhandledEvent]). Malformed JSON or a
// missing required field (action, the installation ID, the renamed
// account's ID, the revoking sender's ID, the hook ID, a listed
// repository's ID or full name) is an error. Verify the signature with
// [VerifySignature] first.
func Parse(event string, body []byte) (any, error) {
	var (
		ev  any
		err error
	)
	switch event {
	case EventInstallation:
		ev, err = parseInstallation(body)
	case EventInstallationRepositories:
		ev, err = parseInstallationRepositories(body)
	case EventInstallationTarget:
		ev, err = parseInstallationTarget(body)
	case EventAppAuthorization:
		ev, err = parseAppAuthorization(body)
	case EventPing:
		ev, err = parsePing(body)
	default:
		return nil, ErrUnhandledEvent
	}
	if err != nil {
		return nil, fmt.Errorf("github: parsing %q webhook: %w", event, err)
	}
	return ev, nil
}

// installationDelivery is what "installation" and
// "installation_repositories" deliveries share.
type installationDelivery struct {
	Action       string            `json:"action"`
	Installation *installationJSON `json:"installation"`
	Requester    *account          `json:"requester"`
	Sender       account           `json:"sender"`
}

// repoList is a delivery's list of repositories and its JSON name.
type repoList struct {
	field string
	repos *[]Repo
}

// decodeDelivery decodes body into p, whose embedded delivery is d, and
// requires the action, the installation ID and, in each of lists, every
// repository's ID and full name.
func decodeDelivery(body []byte, p any, d *installationDelivery, lists ...repoList) error {
	if err := decodeAction(body, p, &d.Action); err != nil {
		return err
	}
	if err := checkInstallation(d.Installation); err != nil {
		return err
	}
	for _, l := range lists {
		if err := checkRepos(l.field, *l.repos); err != nil {
			return err
		}
	}
	return nil
}

func parseInstallation(body []byte) (*InstallationEvent, error) {
	var p struct {
		installationDelivery
		Repositories []Repo `json:"repositories"`
	}
	if err := decodeDelivery(body, &p, &p.installationDelivery,
		repoList{"repositories", &p.Repositories}); err != nil {
		return nil, err
	}
	return &InstallationEvent{
		Action:       p.Action,
		Installation: p.Installation.installation(),
		Repositories: p.Repositories,
		Requester:    optionalAccount(p.Requester),
		Sender:       p.Sender.account(),
	}, nil
}

func parseInstallationRepositories(body []byte) (*InstallationRepositoriesEvent, error) {
	var p struct {
		installationDelivery
		RepositorySelection string `json:"repository_selection"`
		RepositoriesAdded   []Repo `json:"repositories_added"`
		RepositoriesRemoved []Repo `json:"repositories_removed"`
	}
	if err := decodeDelivery(body, &p, &p.installationDelivery,
		repoList{"repositories_added", &p.RepositoriesAdded},
		repoList{"repositories_removed", &p.RepositoriesRemoved}); err != nil {
		return nil, err
	}
	return &InstallationRepositoriesEvent{
		Action:              p.Action,
		Installation:        p.Installation.installation(),
		RepositorySelection: p.RepositorySelection,
		RepositoriesAdded:   p.RepositoriesAdded,
		RepositoriesRemoved: p.RepositoriesRemoved,
		Requester:           optionalAccount(p.Requester),
		Sender:              p.Sender.account(),
	}, nil
}

func parseInstallationTarget(body []byte) (*InstallationTargetEvent, error) {
	var p struct {
		Action  string   `json:"action"`
		Account *account `json:"account"`
		Changes struct {
			Login struct {
				From string `json:"from"`
			} `json:"login"`
		} `json:"changes"`
		Installation *struct {
			ID int64 `json:"id"`
		} `json:"installation"`
		TargetType string  `json:"target_type"`
		Sender     account `json:"sender"`
	}
	if err := decodeAction(body, &p, &p.Action); err != nil {
		return nil, err
	}
	if p.Installation == nil || p.Installation.ID <= 0 {
		return nil, errors.New("installation.id is missing")
	}
	if p.Account == nil || p.Account.ID <= 0 {
		return nil, errors.New("account.id is missing")
	}
	return &InstallationTargetEvent{
		Action:         p.Action,
		Account:        p.Account.account(),
		FromLogin:      p.Changes.Login.From,
		InstallationID: p.Installation.ID,
		TargetType:     p.TargetType,
		Sender:         p.Sender.account(),
	}, nil
}

func parseAppAuthorization(body []byte) (*AppAuthorizationEvent, error) {
	var p struct {
		Action string   `json:"action"`
		Sender *account `json:"sender"`
	}
	if err := decodeAction(body, &p, &p.Action); err != nil {
		return nil, err
	}
	if p.Sender == nil || p.Sender.ID <= 0 {
		return nil, errors.New("sender.id is missing")
	}
	return &AppAuthorizationEvent{Action: p.Action, Sender: p.Sender.account()}, nil
}

func parsePing(body []byte) (*PingEvent, error) {
	var p struct {
		Zen    string `json:"zen"`
		HookID int64  `json:"hook_id"`
		Hook   struct {
			AppID int64 `json:"app_id"`
		} `json:"hook"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, err
	}
	if p.HookID <= 0 {
		return nil, errors.New("hook_id is missing")
	}
	return &PingEvent{HookID: p.HookID, Zen: p.Zen, AppID: p.Hook.AppID}, nil
}

// decodeAction decodes body into p, whose action field is action, and
// requires a non-empty action.
func decodeAction(body []byte, p any, action *string) error {
	if err := json.Unmarshal(body, p); err != nil {
		return err
	}
	if *action == "" {
		return errors.New("action is missing")
	}
	return nil
}

// checkInstallation requires an installation object with a positive ID.
func checkInstallation(in *installationJSON) error {
	if in == nil || in.ID <= 0 {
		return errors.New("installation.id is missing")
	}
	return nil
}

// checkRepos requires every listed repository to have an ID and full name.
func checkRepos(field string, repos []Repo) error {
	for i, r := range repos {
		if r.ID <= 0 || r.FullName == "" {
			return fmt.Errorf("%s[%d] has no id or full_name", field, i)
		}
	}
	return nil
}
