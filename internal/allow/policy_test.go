package allow

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
	"github.com/gatehouse-auth/gatehouse/internal/testcheck"
)

// mustPolicy compiles rules or fails the test.
func mustPolicy(t *testing.T, rules ...Rule) *Policy {
	t.Helper()
	return testcheck.Must(t, New, rules)
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		rules   []Rule
		wantErr string // "" means success; otherwise a substring of the error
	}{
		{"none", nil, ""},
		{"user", []Rule{{Kind: "user", Values: []string{"octocat", "12345"}}}, ""},
		{"email", []Rule{{Kind: "email", Values: []string{"a@corp.com", "*@Corp.COM", "b.c+d@sub.corp.com"}}}, ""},
		{"domain", []Rule{{Kind: "domain", Values: []string{"corp.com", ".corp.com", "xn--bcher-kva.example"}}}, ""},
		{"unknown kind", []Rule{{Kind: "group", Values: []string{"acme"}}}, `rule 1 (group): unknown kind "group" (known kinds: user, email, domain, org, team, repo)`},
		{"kind is case-sensitive", []Rule{{Kind: "User", Values: []string{"x"}}}, `unknown kind "User"`},
		{"empty kind", []Rule{{Values: []string{"x"}}}, `unknown kind ""`},
		{"no values", []Rule{{Kind: "user"}}, `rule 1 (user): no values`},
		{"second rule named", []Rule{{Kind: "user", Values: []string{"a"}}, {Kind: "email", Values: []string{"bad"}}}, `rule 2 (email): value "bad"`},
		{"empty user", []Rule{{Kind: "user", Values: []string{""}}}, `value ""`},
		{"user with space", []Rule{{Kind: "user", Values: []string{"octo cat"}}}, `value "octo cat"`},
		{"email without at", []Rule{{Kind: "email", Values: []string{"corp.com"}}}, `value "corp.com": has 0 "@"`},
		{"email two ats", []Rule{{Kind: "email", Values: []string{"a@evil.com@corp.com"}}}, `has 2 "@"`},
		{"email empty local", []Rule{{Kind: "email", Values: []string{"@corp.com"}}}, `empty local part`},
		{"email empty domain", []Rule{{Kind: "email", Values: []string{"a@"}}}, `empty local part or domain`},
		{"email trailing dot", []Rule{{Kind: "email", Values: []string{"a@corp.com."}}}, `trailing dot`},
		{"email space", []Rule{{Kind: "email", Values: []string{"a @corp.com"}}}, `white space`},
		{"email star in local", []Rule{{Kind: "email", Values: []string{"a*@corp.com"}}}, `"*" is only allowed as the whole local part`},
		{"email star domain", []Rule{{Kind: "email", Values: []string{"*@*.corp.com"}}}, `wildcards are not supported`},
		{"email star empty domain", []Rule{{Kind: "email", Values: []string{"*@"}}}, `empty domain`},
		{"email star leading dot", []Rule{{Kind: "email", Values: []string{"*@.corp.com"}}}, `leading or trailing dot`},
		{"email star alone", []Rule{{Kind: "email", Values: []string{"*"}}}, `value "*"`},
		{"email unicode domain", []Rule{{Kind: "email", Values: []string{"a@bücher.example"}}}, `use punycode`},
		{"domain empty", []Rule{{Kind: "domain", Values: []string{""}}}, `empty domain`},
		{"domain dot only", []Rule{{Kind: "domain", Values: []string{"."}}}, `value "."`},
		{"domain trailing dot", []Rule{{Kind: "domain", Values: []string{"corp.com."}}}, `trailing dot`},
		{"domain double dot", []Rule{{Kind: "domain", Values: []string{"corp..com"}}}, `empty label`},
		{"domain wildcard", []Rule{{Kind: "domain", Values: []string{"*.corp.com"}}}, `wildcards`},
		{"domain with at", []Rule{{Kind: "domain", Values: []string{"@corp.com"}}}, `value "@corp.com"`},
		{"domain with slash", []Rule{{Kind: "domain", Values: []string{"corp.com/x"}}}, `ASCII letters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testcheck.New(t, New, tt.rules, tt.wantErr)
		})
	}
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
