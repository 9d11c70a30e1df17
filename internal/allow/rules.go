package allow

import (
	"fmt"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
)

// Rule kinds.
const (
	// KindUser matches the login or the user id, case-insensitively.
	KindUser = "user"
	// KindEmail matches a verified email: an exact address or "*@domain"
	// for every address at exactly that domain.
	KindEmail = "email"
	// KindDomain matches the domain of a verified email: "corp.com"
	// exactly, ".corp.com" for any subdomain of corp.com.
	KindDomain = "domain"
	// KindOrg matches membership of a GitHub organization (a group without
	// a "/"), case-insensitively.
	KindOrg = "org"
	// KindTeam matches membership of a GitHub team, written org/team.
	KindTeam = "team"
	// KindRepo matches a repository the user can access, owner/name.
	KindRepo = "repo"
)

// knownKinds lists the kinds for error messages.
const knownKinds = KindUser + ", " + KindEmail + ", " + KindDomain + ", " + KindOrg + ", " + KindTeam + ", " + KindRepo

// compile turns one rule into a matcher. Adding a kind means adding one
// case here.
func compile(r Rule) (func(*identity.User) bool, error) {
	switch r.Kind {
	case KindUser:
		return compileUser(r.Values)
	case KindEmail:
		return compileEmail(r.Values)
	case KindDomain:
		return compileDomain(r.Values)
	case KindOrg:
		return compileSet(r.Values, false, func(id *identity.User) []string { return id.Groups })
	case KindTeam:
		return compileSet(r.Values, true, func(id *identity.User) []string { return id.Groups })
	case KindRepo:
		return compileSet(r.Values, true, func(id *identity.User) []string { return id.Repos })
	default:
		return nil, fmt.Errorf("unknown kind %q (known kinds: %s)", r.Kind, knownKinds)
	}
}

// compileUser builds a KindUser matcher.
func compileUser(values []string) (func(*identity.User) bool, error) {
	names := make(map[string]bool, len(values))
	for _, v := range values {
		if v == "" || strings.ContainsFunc(v, isSpaceOrControl) {
			return nil, fmt.Errorf("value %q: want a non-empty login or user id without white space", v)
		}
		names[lowerASCII(v)] = true
	}
	return func(id *identity.User) bool {
		return id.Login != "" && names[lowerASCII(id.Login)] ||
			id.UserID != "" && names[lowerASCII(id.UserID)]
	}, nil
}

// compileEmail builds a KindEmail matcher.
func compileEmail(values []string) (func(*identity.User) bool, error) {
	addrs := make(map[string]bool, len(values))
	domains := make(map[string]bool)
	for _, v := range values {
		if d, ok := strings.CutPrefix(v, "*@"); ok {
			if err := checkDomain(d); err != nil {
				return nil, fmt.Errorf("value %q: %w", v, err)
			}
			domains[lowerASCII(d)] = true
			continue
		}
		local, domain, err := parseEmail(v)
		if err == nil && strings.Contains(local, "*") {
			err = fmt.Errorf(`"*" is only allowed as the whole local part ("*@example.com")`)
		}
		if err == nil {
			err = checkDomain(domain)
		}
		if err != nil {
			return nil, fmt.Errorf("value %q: %w; want an address or *@domain", v, err)
		}
		addrs[local+"@"+domain] = true
	}
	return func(id *identity.User) bool {
		local, domain, ok := verifiedEmail(id)
		return ok && (addrs[local+"@"+domain] || domains[domain])
	}, nil
}

// compileDomain builds a KindDomain matcher.
func compileDomain(values []string) (func(*identity.User) bool, error) {
	exact := make(map[string]bool, len(values))
	var suffixes []string
	for _, v := range values {
		d, sub := strings.CutPrefix(v, ".")
		if err := checkDomain(d); err != nil {
			return nil, fmt.Errorf("value %q: %w; want example.com or .example.com", v, err)
		}
		if sub {
			suffixes = append(suffixes, "."+lowerASCII(d))
		} else {
			exact[lowerASCII(d)] = true
		}
	}
	return func(id *identity.User) bool {
		_, domain, ok := verifiedEmail(id)
		if !ok {
			return false
		}
		if exact[domain] {
			return true
		}
		for _, s := range suffixes {
			if len(domain) > len(s) && strings.HasSuffix(domain, s) {
				return true
			}
		}
		return false
	}, nil
}

// verifiedEmail returns the lowercased parts of id's email, with ok false
// when it has none or it is malformed. An identity's email is always one
// its provider verified (identity.User); an unverified one is never set.
func verifiedEmail(id *identity.User) (local, domain string, ok bool) {
	if id.Email == "" {
		return "", "", false
	}
	local, domain, err := parseEmail(id.Email)
	return local, domain, err == nil
}

// compileSet builds a matcher that admits an identity when one of the
// strings field returns equals a value, case-insensitively. With
// pair, each value must be "a/b" (an org/team or owner/name); without,
// a single name with no "/".
func compileSet(values []string, pair bool, field func(*identity.User) []string) (func(*identity.User) bool, error) {
	want := make(map[string]bool, len(values))
	for _, v := range values {
		a, b, hasSlash := strings.Cut(v, "/")
		switch {
		case v == "" || strings.ContainsFunc(v, isSpaceOrControl):
			return nil, fmt.Errorf("value %q: want a name without white space", v)
		case pair && (!hasSlash || a == "" || b == "" || strings.Contains(b, "/")):
			return nil, fmt.Errorf("value %q: want exactly one '/' between two names, e.g. acme/backend", v)
		case !pair && hasSlash:
			return nil, fmt.Errorf("value %q: want a name without '/'", v)
		}
		want[lowerASCII(v)] = true
	}
	return func(id *identity.User) bool {
		for _, g := range field(id) {
			if want[lowerASCII(g)] {
				return true
			}
		}
		return false
	}, nil
}
