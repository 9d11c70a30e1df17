package caddyfile

import (
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/internal/devicelogin"
	"github.com/gatehouse-auth/gatehouse/module"
)

// parseDeviceLogin parses `device_login` alone (device login on, with
// the defaults) or `device_login { lifetime 10m }`.
func parseDeviceLogin(c *cfparse.Cursor, s *state) error {
	if args := c.RemainingArgs(); len(args) > 0 {
		return c.Errorf("device_login takes no arguments, only an optional block, e.g. device_login { lifetime 10m }; unexpected %q", args[0])
	}
	dl := new(module.DeviceLoginConfig)
	if _, err := cfparse.ParseBlock(c.Dispenser, deviceLoginBlock, dl); err != nil {
		return err
	}
	s.h.DeviceLogin, s.deviceLogin = dl, c.Tok
	return nil
}

// deviceLoginBlock is `device_login { ... }`.
var deviceLoginBlock = newTable("device_login", deviceLifetime())

// deviceLifetime is device_login's lifetime: a duration from
// devicelogin.MinLifetime to MaxLifetime.
func deviceLifetime() cfparse.Sub[module.DeviceLoginConfig] {
	sub := cfparse.Duration("lifetime", "10m", devicelogin.MinLifetime,
		func(dl *module.DeviceLoginConfig) *caddy.Duration { return &dl.Lifetime })
	parse := sub.Parse
	sub.Parse = func(c *cfparse.Cursor, dl *module.DeviceLoginConfig) error {
		if err := parse(c, dl); err != nil {
			return err
		}
		if d := time.Duration(dl.Lifetime); d > devicelogin.MaxLifetime {
			return c.Errorf("device_login lifetime must be at most %v (how long a device's code is valid), e.g. lifetime 10m; got %v",
				devicelogin.MaxLifetime, d)
		}
		return nil
	}
	return sub
}
