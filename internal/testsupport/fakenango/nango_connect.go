package fakenango

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// nangoOrg is the (deprecated) organization of an end user.
type nangoOrg struct{ id, displayName string }

// nangoEndUser is the (deprecated) end_user of a session or connection.
type nangoEndUser struct {
	id, email, displayName string
	tags                   map[string]string // nil: none given
	org                    *nangoOrg
}

// view copies e for tests.
func (e *nangoEndUser) view() *NangoEndUser {
	v := &NangoEndUser{ID: e.id, Email: e.email, DisplayName: e.displayName, Tags: cloneTags(e.tags)}
	if e.org != nil {
		v.OrganizationID, v.OrganizationDisplayName = e.org.id, e.org.displayName
	}
	return v
}

// clone deep-copies e (nil stays nil).
func (e *nangoEndUser) clone() *nangoEndUser {
	if e == nil {
		return nil
	}
	c := *e
	c.tags = cloneTags(e.tags)
	if e.org != nil {
		o := *e.org
		c.org = &o
	}
	return &c
}

// derivedTags are the tags Nango builds from end_user and organization
// (buildTagsFromEndUser).
func (e *nangoEndUser) derivedTags() map[string]string {
	if e == nil {
		return nil
	}
	tags := map[string]string{"end_user_id": e.id}
	if e.email != "" {
		tags["end_user_email"] = e.email
	}
	if e.displayName != "" {
		tags["end_user_display_name"] = e.displayName
	}
	if e.org != nil {
		if e.org.id != "" {
			tags["organization_id"] = e.org.id
		}
		if e.org.displayName != "" {
			tags["organization_display_name"] = e.org.displayName
		}
	}
	return tags
}

// apiJSON renders e as the API's end_user object.
func (e *nangoEndUser) apiJSON() jsonObj {
	tags := cloneTags(e.tags)
	if tags == nil {
		tags = map[string]string{}
	}
	var org any
	if e.org != nil {
		org = jsonObj{{"id", e.org.id}, {"display_name", nullIfEmpty(e.org.displayName)}}
	}
	return jsonObj{
		{"id", e.id},
		{"display_name", nullIfEmpty(e.displayName)},
		{"email", nullIfEmpty(e.email)},
		{"tags", tags},
		{"organization", org},
	}
}

// nullIfEmpty is nil for "" (JSON null) and s otherwise.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// mergeTags is {...a, ...b}; nil when both are nil.
func mergeTags(a, b map[string]string) map[string]string {
	if a == nil && b == nil {
		return nil
	}
	out := map[string]string{}
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}

// nangoSession is a connect session.
type nangoSession struct {
	token           string
	endUser         *nangoEndUser
	tags            map[string]string // nil: null
	allowed         []string          // nil: every integration
	webhookOverride string
	reconnect       string // connection ID for a reconnect session
	created         time.Time
	expires         time.Time
}

// nangoUserToken is an OAuth user token (gho_ or ghu_) and the token
// response it came from.
type nangoUserToken struct {
	access, refresh string
	expires         time.Time // zero: never
	raw             jsonObj
}

// credentials renders t as Nango's OAUTH2 credentials.
func (t nangoUserToken) credentials() jsonObj {
	o := jsonObj{{"type", "OAUTH2"}, {"access_token", t.access}}
	if t.refresh != "" {
		o = append(o, jsonKV{"refresh_token", t.refresh})
	}
	if !t.expires.IsZero() {
		o = append(o, jsonKV{"expires_at", nangoTime(t.expires)})
	}
	raw := t.raw
	if raw == nil {
		raw = jsonObj{}
	}
	return append(o, jsonKV{"raw", raw})
}

// nangoInstToken is an installation token (ghs_).
type nangoInstToken struct {
	token   string
	expires time.Time
	raw     jsonObj
}

// nangoConn is a connection.
type nangoConn struct {
	numID           int64
	id              string
	integration     string
	provider        string
	endUser         *nangoEndUser
	tags            map[string]string // never nil
	login           string
	webhookOverride string
	created         time.Time
	updated         time.Time
	lastFetched     time.Time
	user            nangoUserToken
	pending         bool // github-app-oauth without installation
	installed       bool
	installationID  int64
	appID           int64
	inst            nangoInstToken
	jwt             string
	refreshFailed   time.Time // last failed refresh, zero if none since success
	errorLogs       []string  // active auth error log IDs
	deleted         bool
	refreshMu       sync.Mutex // serializes refreshes (GitHub rotates refresh tokens)
}

// view copies c for tests (n.mu held).
func (c *nangoConn) view() NangoConnection {
	v := NangoConnection{ID: c.id, Integration: c.integration, Tags: cloneTags(c.tags), Pending: c.pending,
		Login: c.login, InstallationID: c.installationID, WebhookURLOverride: c.webhookOverride}
	v.EndUserID = c.tags["end_user_id"]
	if v.EndUserID == "" && c.endUser != nil {
		v.EndUserID = c.endUser.id
	}
	return v
}

// credentialsJSON renders credentials (n.mu held).
func (c *nangoConn) credentialsJSON() jsonObj {
	if !c.installed {
		return c.user.credentials()
	}
	raw := c.inst.raw
	if raw == nil {
		raw = jsonObj{}
	}
	return jsonObj{{"type", "APP"}, {"access_token", c.inst.token}, {"expires_at", nangoTime(c.inst.expires)}, {"raw", raw}}
}

// configJSON renders connection_config (n.mu held).
func (c *nangoConn) configJSON() jsonObj {
	if c.provider != "github-app-oauth" {
		return jsonObj{}
	}
	if !c.installed {
		return jsonObj{{"pending", true}, {"handle", c.login}, {"userCredentials", c.user.credentials()}}
	}
	return jsonObj{
		{"installation_id", strconv.FormatInt(c.installationID, 10)},
		{"app_id", strconv.FormatInt(c.appID, 10)},
		{"jwtToken", c.jwt},
		{"pending", false},
		{"handle", c.login},
		{"userCredentials", c.user.credentials()},
	}
}

// authMode is the authMode of c's auth webhooks.
func (c *nangoConn) authMode() string {
	if c.provider == "github-app-oauth" {
		return "CUSTOM"
	}
	return "OAUTH2"
}

// newUUID returns a random version 4 UUID.
func newUUID() string { return authserver.UUID() }

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("fakenango: crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// fakeAppJWT returns a GitHub App JWT of the shape Nango keeps in
// connection_config.jwtToken (iat 60 s ago, exp in 10 min, iss the app ID).
// The fake Nango has no private key, so the signature is random bytes.
func fakeAppJWT(appID int64, now time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims := enc.EncodeToString(fmt.Appendf(nil, `{"iat":%d,"exp":%d,"iss":"%d"}`,
		now.Add(-time.Minute).Unix(), now.Add(10*time.Minute).Unix(), appID))
	sig := make([]byte, 256)
	_, _ = rand.Read(sig)
	return header + "." + claims + "." + enc.EncodeToString(sig)
}
