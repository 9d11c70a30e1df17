package devidp

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
)

// User is an account that can sign in.
type User struct {
	// Subject is the stable "sub" claim. Default: [SubjectFor](Username).
	Subject string
	// Username is the name typed or picked on the sign-in page and the
	// "preferred_username" claim. Required and unique, ignoring case;
	// ASCII letters, digits and ".", "_", "-", "+", "@" only, at most 64
	// characters.
	Username string
	// Email is the "email" claim, released by the "email" scope; omitted
	// when empty.
	Email string
	// EmailVerified is the "email_verified" claim, sent with Email.
	EmailVerified bool
	// Name is the "name" claim, released by the "profile" scope (as are
	// preferred_username and picture); omitted when empty.
	Name string
	// Picture is the "picture" claim (a URL); omitted when empty.
	Picture string
	// Groups is the "groups" claim, released by the "groups" scope; omitted
	// when empty.
	Groups []string
	// Extra holds additional claims added, whatever the scopes, to ID tokens
	// and UserInfo responses as they are. They can override the claims
	// above but never iss, aud, azp, exp, iat, auth_time, nonce, at_hash or
	// sid.
	Extra map[string]any
}

// Scope values that release claims; "openid" is required in every
// authorization request and "offline_access" is accepted (refresh tokens are
// issued with every grant unless Options.RefreshOnlyOffline asks for it).
const (
	// ScopeProfile releases name, preferred_username and picture.
	ScopeProfile = "profile"
	// ScopeEmail releases email and email_verified.
	ScopeEmail = "email"
	// ScopeGroups releases groups.
	ScopeGroups = "groups"
)

// supportedScopes are the scope values an authorization request may use.
var supportedScopes = []string{"openid", ScopeProfile, ScopeEmail, ScopeGroups, "offline_access"}

// supportedClaims is claims_supported in the discovery document.
var supportedClaims = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "sid",
	"name", "preferred_username", "picture", "email", "email_verified", "groups",
}

// DefaultUsers returns the users listed on the sign-in page when
// [Options].Users is nil: alice and bob with verified emails, and eve whose
// email is not verified.
func DefaultUsers() []User {
	return []User{
		{Username: "alice", Email: "alice@example.com", EmailVerified: true, Name: "Alice", Groups: []string{"admins", "staff"}},
		{Username: "bob", Email: "bob@example.com", EmailVerified: true, Name: "Bob", Groups: []string{"staff"}},
		{Username: "eve", Email: "eve@example.com", EmailVerified: false, Name: "Eve"},
	}
}

// SubjectFor is the default subject of a user named username: an opaque,
// stable identifier that differs from the username, as at real providers.
func SubjectFor(username string) string {
	sum := sha256.Sum256([]byte("devidp subject\x00" + strings.ToLower(username)))
	return "u-" + hex.EncodeToString(sum[:10])
}

func (u User) validate() error {
	if u.Username == "" {
		return errors.New("user with an empty username")
	}
	if err := checkUsername(u.Username); err != nil {
		return err
	}
	return nil
}

// checkUsername reports whether name is acceptable as a username.
func checkUsername(name string) error {
	if name == "" {
		return errors.New("username is empty")
	}
	if len(name) > 64 {
		return fmt.Errorf("username %.20q… is longer than 64 characters", name)
	}
	for _, r := range name {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-+@", r)) {
			return fmt.Errorf("username %q may contain only letters, digits and . _ - + @", name)
		}
	}
	return nil
}

// normalize fills in defaults and returns a deep copy of u.
func (u User) normalize() User {
	if u.Subject == "" {
		u.Subject = SubjectFor(u.Username)
	}
	u.Groups = slices.Clone(u.Groups)
	u.Extra = maps.Clone(u.Extra)
	return u
}

// madeUpUser is the user signed in when someone types a username that is not
// registered: a verified address at example.com (or the typed address when
// the username looks like one) and a name made from the username.
func madeUpUser(username string) User {
	local, _, isEmail := strings.Cut(username, "@")
	email := username + "@example.com"
	if isEmail {
		email = username
	}
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune("._-+", r) {
			return ' '
		}
		return r
	}, local)
	words := strings.Fields(name)
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return User{
		Username:      username,
		Email:         email,
		EmailVerified: true,
		Name:          strings.Join(words, " "),
	}.normalize()
}

// claims returns u's claims released by scopes, plus sub and Extra.
func (u User) claims(scopes []string) map[string]any {
	c := map[string]any{"sub": u.Subject}
	if slices.Contains(scopes, ScopeProfile) {
		c["preferred_username"] = u.Username
		if u.Name != "" {
			c["name"] = u.Name
		}
		if u.Picture != "" {
			c["picture"] = u.Picture
		}
	}
	if slices.Contains(scopes, ScopeEmail) && u.Email != "" {
		c["email"] = u.Email
		c["email_verified"] = u.EmailVerified
	}
	if slices.Contains(scopes, ScopeGroups) && len(u.Groups) > 0 {
		c["groups"] = slices.Clone(u.Groups)
	}
	for k, v := range u.Extra {
		c[k] = v
	}
	return c
}

// initials returns up to two letters for u's avatar on the sign-in page.
func (u User) initials() string {
	name := u.Name
	if name == "" {
		name = u.Username
	}
	var out []rune
	for _, w := range strings.Fields(name) {
		r := []rune(w)[0]
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, unicode.ToUpper(r))
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}
