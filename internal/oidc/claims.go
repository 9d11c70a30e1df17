package oidc

import (
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

// claims are the id_token claims Gatehouse reads.
type claims struct {
	Email             string `json:"email"`
	EmailVerified     any    `json:"email_verified"`
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	Nickname          string `json:"nickname"`
	Picture           string `json:"picture"`
	Groups            any    `json:"groups"`
}

// verified reads email_verified, which providers send as a boolean or as
// the string "true"; anything else (false, "false", missing) is false.
func verified(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return strings.EqualFold(t, "true")
	}
	return false
}

// stringList reads a claim that is a list of strings or a single string.
func stringList(v any) []string {
	switch t := v.(type) {
	case string:
		if t == "" {
			return nil
		}
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (c *claims) identity(sub string) *provider.Identity {
	id := &provider.Identity{
		Subject: sub,
		Name:    c.Name,
		Picture: c.Picture,
		Groups:  stringList(c.Groups),
	}
	id.Username = c.PreferredUsername
	if id.Username == "" {
		id.Username = c.Nickname
	}
	if verified(c.EmailVerified) {
		id.Email, id.EmailVerified = c.Email, true
	}
	return id
}
