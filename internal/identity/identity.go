// Package identity holds who a request is from, and the one table of the
// fields of an identity that every projection iterates: the headers sent
// upstream and their renaming in headers { }, the {http.auth.user.*}
// placeholders, {prefix}/userinfo, the X-Auth-Jwt claims. Adding a field
// is one line in Fields (and a field of User).
package identity

import "slices"

// User is a verified identity. Email is only ever a verified address.
type User struct {
	// UserID is the stable internal user id ("<provider>:<subject>").
	UserID string `json:"uid"`
	// Login is the login or preferred username.
	Login string `json:"login,omitempty"`
	// Email is the user's email, set only when the provider verified it.
	Email string `json:"email,omitempty"`
	// Name is the display name.
	Name string `json:"name,omitempty"`
	// Avatar is the URL of the user's picture.
	Avatar string `json:"avatar,omitempty"`
	// Provider is the name of the provider (or trusted issuer) the user
	// signed in with.
	Provider string `json:"provider"`
	// Groups the user belongs to: for GitHub "org" and "org/team", for
	// OIDC the groups claim.
	Groups []string `json:"groups,omitempty"`
	// Repos the user can access, as owner/name.
	Repos []string `json:"repos,omitempty"`
	// Connections are the names of the user's linked accounts.
	Connections []string `json:"conns,omitempty"`
}

// Equal reports whether u and o are the same identity, field by field.
func (u *User) Equal(o *User) bool {
	return u.UserID == o.UserID && u.Login == o.Login && u.Email == o.Email && u.Name == o.Name &&
		u.Avatar == o.Avatar && u.Provider == o.Provider && slices.Equal(u.Groups, o.Groups) &&
		slices.Equal(u.Repos, o.Repos) && slices.Equal(u.Connections, o.Connections)
}

// DisplayName is who the user is, as pages name them: the login, else
// the email, else the id.
func (u *User) DisplayName() string {
	switch {
	case u.Login != "":
		return u.Login
	case u.Email != "":
		return u.Email
	}
	return u.UserID
}

// Field is one field of an identity and its name in every projection.
type Field struct {
	// Key names the field in headers { } and in {prefix}/userinfo.
	Key string
	// Header is the header it is sent upstream in, unless renamed.
	Header string
	// Placeholder is its name under {http.auth.user.*}.
	Placeholder string
	// Claim is its claim in X-Auth-Jwt.
	Claim string
	// Value reads a single-valued field; nil for a list.
	Value func(*User) string
	// List reads a list field (comma-separated in headers and
	// placeholders, an array in JSON); nil for a single value.
	List func(*User) []string
}

// Fields is the identity, in the order headers and claims are written.
// The id is sent in the JWT's sub.
var Fields = [...]Field{
	{Key: "user_id", Header: "X-Auth-User-Id", Placeholder: "id", Claim: "sub", Value: func(u *User) string { return u.UserID }},
	{Key: "user", Header: "X-Auth-User", Placeholder: "login", Claim: "login", Value: func(u *User) string { return u.Login }},
	{Key: "email", Header: "X-Auth-Email", Placeholder: "email", Claim: "email", Value: func(u *User) string { return u.Email }},
	{Key: "name", Header: "X-Auth-Name", Placeholder: "name", Claim: "name", Value: func(u *User) string { return u.Name }},
	{Key: "avatar", Header: "X-Auth-Avatar", Placeholder: "avatar", Claim: "avatar", Value: func(u *User) string { return u.Avatar }},
	{Key: "provider", Header: "X-Auth-Provider", Placeholder: "provider", Claim: "provider", Value: func(u *User) string { return u.Provider }},
	{Key: "groups", Header: "X-Auth-Groups", Placeholder: "groups", Claim: "groups", List: func(u *User) []string { return u.Groups }},
	{Key: "repos", Header: "X-Auth-Repos", Placeholder: "repos", Claim: "repos", List: func(u *User) []string { return u.Repos }},
	{Key: "connections", Header: "X-Auth-Connections", Placeholder: "connections", Claim: "connections", List: func(u *User) []string { return u.Connections }},
}

// NumFields is the number of identity fields.
const NumFields = len(Fields)

// Lookup returns the index of the field with key k.
func Lookup(k string) (int, bool) {
	for i := range Fields {
		if Fields[i].Key == k {
			return i, true
		}
	}
	return 0, false
}

// ByPlaceholder returns the index of the field named p under
// {http.auth.user.*}.
func ByPlaceholder(p string) (int, bool) {
	for i := range Fields {
		if Fields[i].Placeholder == p {
			return i, true
		}
	}
	return 0, false
}

// Claims returns the X-Auth-Jwt claims of u other than sub: every field
// that is set, under its claim name.
func (u *User) Claims() map[string]any {
	c := make(map[string]any, NumFields)
	for i := range Fields {
		f := &Fields[i]
		if f.Claim == "sub" {
			continue
		}
		if f.Value != nil {
			if v := f.Value(u); v != "" {
				c[f.Claim] = v
			}
		} else if l := f.List(u); len(l) > 0 {
			c[f.Claim] = l
		}
	}
	return c
}

// JSON returns u as {prefix}/userinfo shows it: every field under its
// key, lists as arrays (empty rather than null).
func (u *User) JSON() map[string]any {
	m := make(map[string]any, NumFields+2)
	for i := range Fields {
		f := &Fields[i]
		if f.Value != nil {
			m[f.Key] = f.Value(u)
		} else if l := f.List(u); l != nil {
			m[f.Key] = l
		} else {
			m[f.Key] = []string{}
		}
	}
	return m
}
