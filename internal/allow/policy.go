// Package allow decides which signed-in users are admitted, from an
// ordered list of allow rules.
//
// Email-based rules trust only verified addresses and parse them strictly,
// so that "a@evil.com@corp.com", "x@corp.com.evil.com" and unverified
// addresses never pass a corp.com rule (security.md row 15: oauth2-proxy
// CVE-2026-40574, grafana/grafana #1986).
package allow

import (
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
)

// Rule admits users by one attribute. Kind is one of the Kind constants;
// Values lists what admits a user.
type Rule struct {
	// Kind says what to match.
	Kind string
	// Values that admit a user; at least one.
	Values []string
}

// Policy is an ordered list of rules; any matching rule admits the user.
// An empty policy admits everyone. A Policy is immutable after New and safe
// for concurrent use.
type Policy struct {
	rules []compiled
	// machines are the providers whose identities are machines (trusted
	// JWT issuers): their login is a claim of a token anyone of the
	// issuer's users could mint, never an account the operator vouches
	// for, so user rules match them by their namespaced user id only.
	machines map[string]bool
}

// compiled is a rule ready to evaluate.
type compiled struct {
	kind  string
	match func(*identity.User) bool
}

// New compiles rules into a policy. An unknown kind, a rule without values
// or a malformed value (such as a bad email or domain pattern) gives an
// error naming the rule and the value.
//
// machines names the providers whose identities are machines (trusted
// JWT issuers), which user rules match by user id only.
func New(rules []Rule, machines ...string) (*Policy, error) {
	p := &Policy{rules: make([]compiled, 0, len(rules)), machines: map[string]bool{}}
	for _, m := range machines {
		p.machines[m] = true
	}
	for i, r := range rules {
		match, err := compile(r)
		if err != nil {
			return nil, fmt.Errorf("access: rule %d (%s): %w", i+1, r.Kind, err)
		}
		if len(r.Values) == 0 {
			return nil, fmt.Errorf("access: rule %d (%s): no values", i+1, r.Kind)
		}
		p.rules = append(p.rules, compiled{kind: r.Kind, match: match})
	}
	return p, nil
}

// Allows reports whether id passes the policy: true when the policy is
// empty or any rule matches. A nil *Policy admits no one, so a handler
// that forgot to build its policy fails closed.
func (p *Policy) Allows(id *identity.User) bool {
	if p == nil {
		return false
	}
	if len(p.rules) == 0 {
		return true
	}
	machine := p.machines[id.Provider]
	for _, r := range p.rules {
		if machine && r.kind == KindUser {
			if r.match(&identity.User{UserID: id.UserID}) {
				return true
			}
			continue
		}
		if r.match(id) {
			return true
		}
	}
	return false
}
