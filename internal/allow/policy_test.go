package allow

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/testcheck"
)

// mustPolicy compiles rules or fails the test.
func mustPolicy(t *testing.T, rules ...Rule) *Policy {
	t.Helper()
	return testcheck.Must(t, newPolicy, rules)
}

// newPolicy is New for people only.
func newPolicy(rules []Rule) (*Policy, error) { return New(rules) }

func TestNew(t *testing.T) {
	testcheck.NewCases(t, newPolicy, []testcheck.NewCase[[]Rule]{
		{Name: "none"},
		{Name: "user", In: []Rule{{Kind: "user", Values: []string{"octocat", "12345"}}}},
		{Name: "email", In: []Rule{{Kind: "email", Values: []string{"a@corp.com", "*@Corp.COM", "b.c+d@sub.corp.com"}}}},
		{Name: "domain", In: []Rule{{Kind: "domain", Values: []string{"corp.com", ".corp.com", "xn--bcher-kva.example"}}}},
		{Name: "unknown kind", In: []Rule{{Kind: "group", Values: []string{"acme"}}}, WantErr: `rule 1 (group): unknown kind "group" (known kinds: user, email, domain, org, team, repo)`},
		{Name: "kind is case-sensitive", In: []Rule{{Kind: "User", Values: []string{"x"}}}, WantErr: `unknown kind "User"`},
		{Name: "empty kind", In: []Rule{{Values: []string{"x"}}}, WantErr: `unknown kind ""`},
		{Name: "no values", In: []Rule{{Kind: "user"}}, WantErr: `rule 1 (user): no values`},
		{Name: "second rule named", In: []Rule{{Kind: "user", Values: []string{"a"}}, {Kind: "email", Values: []string{"bad"}}}, WantErr: `rule 2 (email): value "bad"`},
		{Name: "empty user", In: []Rule{{Kind: "user", Values: []string{""}}}, WantErr: `value ""`},
		{Name: "user with space", In: []Rule{{Kind: "user", Values: []string{"octo cat"}}}, WantErr: `value "octo cat"`},
		{Name: "email without at", In: []Rule{{Kind: "email", Values: []string{"corp.com"}}}, WantErr: `value "corp.com": has 0 "@"`},
		{Name: "email two ats", In: []Rule{{Kind: "email", Values: []string{"a@evil.com@corp.com"}}}, WantErr: `has 2 "@"`},
		{Name: "email empty local", In: []Rule{{Kind: "email", Values: []string{"@corp.com"}}}, WantErr: `empty local part`},
		{Name: "email empty domain", In: []Rule{{Kind: "email", Values: []string{"a@"}}}, WantErr: `empty local part or domain`},
		{Name: "email trailing dot", In: []Rule{{Kind: "email", Values: []string{"a@corp.com."}}}, WantErr: `trailing dot`},
		{Name: "email space", In: []Rule{{Kind: "email", Values: []string{"a @corp.com"}}}, WantErr: `white space`},
		{Name: "email star in local", In: []Rule{{Kind: "email", Values: []string{"a*@corp.com"}}}, WantErr: `"*" is only allowed as the whole local part`},
		{Name: "email star domain", In: []Rule{{Kind: "email", Values: []string{"*@*.corp.com"}}}, WantErr: `wildcards are not supported`},
		{Name: "email star empty domain", In: []Rule{{Kind: "email", Values: []string{"*@"}}}, WantErr: `empty domain`},
		{Name: "email star leading dot", In: []Rule{{Kind: "email", Values: []string{"*@.corp.com"}}}, WantErr: `leading or trailing dot`},
		{Name: "email star alone", In: []Rule{{Kind: "email", Values: []string{"*"}}}, WantErr: `value "*"`},
		{Name: "email unicode domain", In: []Rule{{Kind: "email", Values: []string{"a@bücher.example"}}}, WantErr: `use punycode`},
		{Name: "domain empty", In: []Rule{{Kind: "domain", Values: []string{""}}}, WantErr: `empty domain`},
		{Name: "domain dot only", In: []Rule{{Kind: "domain", Values: []string{"."}}}, WantErr: `value "."`},
		{Name: "domain trailing dot", In: []Rule{{Kind: "domain", Values: []string{"corp.com."}}}, WantErr: `trailing dot`},
		{Name: "domain double dot", In: []Rule{{Kind: "domain", Values: []string{"corp..com"}}}, WantErr: `empty label`},
		{Name: "domain wildcard", In: []Rule{{Kind: "domain", Values: []string{"*.corp.com"}}}, WantErr: `wildcards`},
		{Name: "domain with at", In: []Rule{{Kind: "domain", Values: []string{"@corp.com"}}}, WantErr: `value "@corp.com"`},
		{Name: "domain with slash", In: []Rule{{Kind: "domain", Values: []string{"corp.com/x"}}}, WantErr: `ASCII letters`},
	})
}

func TestAllows(t *testing.T) {
	verified := func(email string) *identity.User {
		return &identity.User{UserID: "1", Login: "someone", Email: email}
	}
	// An unverified address never reaches the identity: the user has none.
	unverified := func(string) *identity.User { return &identity.User{UserID: "1", Login: "someone"} }

	users := Rule{Kind: KindUser, Values: []string{"OctoCat", "4242"}}
	wholeDomain := Rule{Kind: KindEmail, Values: []string{"*@corp.com"}}
	addresses := Rule{Kind: KindEmail, Values: []string{"Alice@Corp.com"}}
	domain := Rule{Kind: KindDomain, Values: []string{"corp.com"}}
	subdomains := Rule{Kind: KindDomain, Values: []string{".corp.com"}}

	tests := []struct {
		name string
		rule Rule
		id   *identity.User
		want bool
	}{
		// user
		{"user login", users, &identity.User{Login: "octocat"}, true},
		{"user login upper", users, &identity.User{Login: "OCTOCAT"}, true},
		{"user id", users, &identity.User{UserID: "4242", Login: "other"}, true},
		{"user id matched case-insensitively", Rule{Kind: KindUser, Values: []string{"AbC-id"}}, &identity.User{UserID: "abc-ID"}, true},
		{"user other", users, &identity.User{UserID: "1", Login: "octocat2"}, false},
		{"user prefix", users, &identity.User{Login: "octo"}, false},
		{"user empty identity", users, &identity.User{}, false},
		{"user kelvin sign lookalike", Rule{Kind: KindUser, Values: []string{"kate"}}, &identity.User{Login: "\u212aate"}, false},
		{"user ignores email", users, verified("octocat@corp.com"), false},

		// email, *@corp.com
		{"star plain", wholeDomain, verified("x@corp.com"), true},
		{"star upper case", wholeDomain, verified("X@CORP.COM"), true},
		{"star unverified", wholeDomain, unverified("x@corp.com"), false},
		{"star double at", wholeDomain, verified("a@evil.com@corp.com"), false},
		{"star suffix lookalike", wholeDomain, verified("x@corp.com.evil.com"), false},
		{"star prefix lookalike", wholeDomain, verified("x@evilcorp.com"), false},
		{"star trailing dot", wholeDomain, verified("x@corp.com."), false},
		{"star subdomain", wholeDomain, verified("x@sub.corp.com"), false},
		{"star empty local", wholeDomain, verified("@corp.com"), false},
		{"star space", wholeDomain, verified("x @corp.com"), false},
		{"star trailing space", wholeDomain, verified("x@corp.com "), false},
		{"star newline", wholeDomain, verified("x@corp.com\n"), false},
		{"star NUL", wholeDomain, verified("x@corp.com\x00"), false},
		{"star quoted local with at", wholeDomain, verified(`"a@evil.com"@corp.com`), false},
		{"star empty email", wholeDomain, verified(""), false},
		{"star kelvin sign domain", Rule{Kind: KindEmail, Values: []string{"*@kcorp.com"}}, verified("x@\u212acorp.com"), false},

		// email, exact address
		{"address exact", addresses, verified("alice@corp.com"), true},
		{"address case", addresses, verified("ALICE@CORP.COM"), true},
		{"address unverified", addresses, unverified("alice@corp.com"), false},
		{"address other local", addresses, verified("bob@corp.com"), false},
		{"address plus tag", addresses, verified("alice+x@corp.com"), false},
		{"address double at", addresses, verified("alice@evil.com@corp.com"), false},
		{"address trailing dot", addresses, verified("alice@corp.com."), false},

		// domain corp.com
		{"domain plain", domain, verified("x@corp.com"), true},
		{"domain upper case", domain, verified("X@CORP.COM"), true},
		{"domain unverified", domain, unverified("x@corp.com"), false},
		{"domain double at", domain, verified("a@evil.com@corp.com"), false},
		{"domain suffix lookalike", domain, verified("x@corp.com.evil.com"), false},
		{"domain prefix lookalike", domain, verified("x@evilcorp.com"), false},
		{"domain trailing dot", domain, verified("x@corp.com."), false},
		{"domain subdomain", domain, verified("x@sub.corp.com"), false},

		// domain .corp.com
		{"subdomains sub", subdomains, verified("x@sub.corp.com"), true},
		{"subdomains deep", subdomains, verified("x@a.b.corp.com"), true},
		{"subdomains upper", subdomains, verified("X@SUB.CORP.COM"), true},
		{"subdomains not apex", subdomains, verified("x@corp.com"), false},
		{"subdomains lookalike", subdomains, verified("x@subcorp.com"), false},
		{"subdomains suffix lookalike", subdomains, verified("x@sub.corp.com.evil.com"), false},
		{"subdomains empty label", subdomains, verified("x@.corp.com"), false},
		{"subdomains unverified", subdomains, unverified("x@sub.corp.com"), false},
		{"subdomains double at", subdomains, verified("a@evil.com@sub.corp.com"), false},
		{"subdomains trailing dot", subdomains, verified("x@sub.corp.com."), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, tt.rule)
			if got := p.Allows(tt.id); got != tt.want {
				t.Errorf("rule %+v: Allows(%+v) = %v, want %v", tt.rule, tt.id, got, tt.want)
			}
		})
	}
}

func TestAllowsPolicy(t *testing.T) {
	alice := &identity.User{UserID: "7", Login: "alice", Email: "alice@corp.com"}
	mallory := &identity.User{UserID: "8", Login: "mallory", Email: "mallory@evil.com"}
	tests := []struct {
		name   string
		policy *Policy
		id     *identity.User
		want   bool
	}{
		{"empty policy admits everyone", mustPolicy(t), mallory, true},
		{"empty policy admits empty identity", mustPolicy(t), &identity.User{}, true},
		{"nil policy admits no one", nil, alice, false},
		{"any rule admits", mustPolicy(t,
			Rule{Kind: KindUser, Values: []string{"bob"}},
			Rule{Kind: KindDomain, Values: []string{"corp.com"}},
		), alice, true},
		{"no rule admits", mustPolicy(t,
			Rule{Kind: KindUser, Values: []string{"bob"}},
			Rule{Kind: KindDomain, Values: []string{"corp.com"}},
		), mallory, false},
		{"any value admits", mustPolicy(t, Rule{Kind: KindUser, Values: []string{"bob", "ALICE"}}), alice, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.Allows(tt.id); got != tt.want {
				t.Errorf("Allows(%+v) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestGitHubKinds(t *testing.T) {
	id := &identity.User{Login: "alice", Groups: []string{"Acme", "acme/Backend", "other"}, Repos: []string{"acme/api", "alice/dotfiles"}}
	cases := []struct {
		rule Rule
		want bool
	}{
		{Rule{KindOrg, []string{"acme"}}, true},
		{Rule{KindOrg, []string{"evil"}}, false},
		{Rule{KindOrg, []string{"backend"}}, false}, // a team slug is not an org
		{Rule{KindTeam, []string{"acme/backend"}}, true},
		{Rule{KindTeam, []string{"acme/frontend"}}, false},
		{Rule{KindTeam, []string{"other/backend"}}, false},
		{Rule{KindRepo, []string{"ACME/API"}}, true},
		{Rule{KindRepo, []string{"acme/web"}}, false},
		{Rule{KindRepo, []string{"acme/api"}}, true},
	}
	for _, c := range cases {
		p, err := New([]Rule{c.rule})
		if err != nil {
			t.Fatalf("%v: %v", c.rule, err)
		}
		if got := p.Allows(id); got != c.want {
			t.Errorf("%v allows = %v, want %v", c.rule, got, c.want)
		}
	}
	// An org rule never matches through a repo owner or a team.
	p, _ := New([]Rule{{KindOrg, []string{"alice"}}})
	if p.Allows(id) {
		t.Error("org rule matched a repository owner")
	}
	for _, bad := range []Rule{
		{KindOrg, []string{"a/b"}}, {KindTeam, []string{"acme"}}, {KindTeam, []string{"a/b/c"}},
		{KindTeam, []string{"/b"}}, {KindRepo, []string{"a/"}}, {KindRepo, []string{"a b/c"}},
	} {
		if _, err := New([]Rule{bad}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// A machine identity (a trusted issuer's token) is matched by user rules
// through its namespaced user id only: its login is a token claim (a
// GitHub Actions actor) that anyone can make a person's name.
func TestMachinesMatchUserRulesByIDOnly(t *testing.T) {
	p, err := New([]Rule{{Kind: KindUser, Values: []string{"jsmith", "github_actions:repo:acme/app:ref:refs/heads/main"}}, {Kind: KindRepo, Values: []string{"acme/app"}}}, "github_actions")
	if err != nil {
		t.Fatal(err)
	}
	person := &identity.User{UserID: "corp:1", Login: "jsmith", Provider: "corp"}
	impostor := &identity.User{UserID: "github_actions:repo:evil/x:ref:refs/heads/main", Login: "jsmith", Provider: "github_actions", Repos: []string{"evil/x"}}
	byID := &identity.User{UserID: "github_actions:repo:acme/app:ref:refs/heads/main", Login: "octocat", Provider: "github_actions"}
	byRepo := &identity.User{UserID: "github_actions:repo:acme/app:environment:prod", Login: "octocat", Provider: "github_actions", Repos: []string{"acme/app"}}
	for _, c := range []struct {
		id   *identity.User
		want bool
	}{{person, true}, {impostor, false}, {byID, true}, {byRepo, true}} {
		if got := p.Allows(c.id); got != c.want {
			t.Errorf("Allows(%s, login %s) = %v, want %v", c.id.UserID, c.id.Login, got, c.want)
		}
	}
}
