package cfparse

import (
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
	cf "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
)

// WarnLogger returns where the adapter's warnings go: Caddy's "caddyfile"
// logger, as for Caddy's own directives. It is looked up at each warning,
// since Caddy replaces its default logger when a config is loaded; tests
// replace it to capture the warnings.
var WarnLogger = func() *zap.Logger { return caddy.Log().Named("caddyfile") }

// SecretValue reads exactly one value, as OneValue does, for a
// subdirective that holds a secret; example is a placeholder such as
// {env.GATEHOUSE_SECRET}. A value without a placeholder is logged as a
// warning, since Caddy logs the adapted JSON, secret included, at debug
// level before any module runs.
func (c *Cursor) SecretValue(example string) (string, error) {
	v, err := c.OneValue(example)
	if err != nil {
		return "", err
	}
	WarnLiteralSecret(c.Tok, c.What(), v, example, false)
	return v, nil
}

// WarnLiteralSecret is the one place that warns about a secret written
// literally in the Caddyfile: value (a secret, or the password of a URL
// when inURL) at tok, in subdirective what. Nothing is logged when value is
// empty or holds a placeholder such as {env.X} or {file./path}, which is
// resolved at provision and never appears in the config. A {$VAR} is
// substituted when the Caddyfile is read, so it arrives here as a literal
// and warns too. The message never contains the value.
func WarnLiteralSecret(tok cf.Token, what, value, example string, inURL bool) {
	if value == "" || HasPlaceholder(value) {
		return
	}
	env := envName(example, what)
	subject := "gatehouse " + what + " is written literally"
	if inURL {
		subject = "the password in the URL of gatehouse " + what + " is written literally"
	}
	msg := fmt.Sprintf("%s:%d: %s; Caddy logs the adapted config (with it) at debug level — "+
		"use a placeholder such as {env.%s} or {file./run/secrets/%s} "+
		"({$VAR} is substituted before the adapter runs, so it counts as literal)",
		tok.File, tok.Line, subject, env, strings.ToLower(env))
	WarnLogger().Warn(msg, zap.String("file", tok.File), zap.Int("line", tok.Line), zap.String("subdirective", what))
}

// envName is the variable of an {env.NAME} example, or one made from the
// subdirective's name.
func envName(example, what string) string {
	if name, ok := strings.CutPrefix(example, "{env."); ok && strings.HasSuffix(name, "}") {
		return strings.TrimSuffix(name, "}")
	}
	return "GATEHOUSE_" + strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_").Replace(what))
}
