package caddyfile

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	cf "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/internal/cfparse"
	"github.com/gatehouse-auth/gatehouse/module"
)

// defaultRedisAddress is used by `store redis` without a URL or address.
const defaultRedisAddress = "127.0.0.1:6379"

func parseStore(c *cfparse.Cursor, s *state) error {
	args := c.RemainingArgs()
	if len(args) == 0 {
		return c.Errorf("store needs a type: store memory, store redis <url>, or store redis { ... }")
	}
	switch args[0] {
	case "memory":
		if len(args) > 1 {
			return c.Errorf("store memory takes no further arguments; remove %q", args[1])
		}
		if c.NextBlock(c.Nesting()) {
			return c.Errorf("store memory takes no block; for Redis options write store redis { ... }")
		}
		s.h.Store = &module.StoreConfig{Type: "memory"}
		return nil
	case "redis":
		st := &module.StoreConfig{Type: "redis"}
		switch len(args) {
		case 1:
			seen, err := cfparse.ParseBlock(c.Dispenser, redisBlock, st)
			if err != nil {
				return err
			}
			if err := checkRedisBlock(seen, st); err != nil {
				return err
			}
		case 2:
			if c.NextBlock(c.Nesting()) {
				return c.Errorf("store redis takes either a URL or a block, not both; "+
					"move the URL into the block as: url %s", args[1])
			}
			if err := checkRedisURL(c, "store redis", args[1]); err != nil {
				return err
			}
			st.URL = args[1]
		default:
			return c.Errorf("store redis takes at most one URL, e.g. store redis redis://127.0.0.1:6379/0; " +
				"for several servers use a block: store redis { address <host:port...> }")
		}
		if st.URL == "" && len(st.Addresses) == 0 {
			st.Addresses = []string{defaultRedisAddress}
		}
		s.h.Store = st
		return nil
	default:
		return c.Errorf("unknown store type %q; use store memory or store redis", args[0])
	}
}

// redisBlock is `store redis { ... }`.
var redisBlock = newTable("store redis",
	cfparse.Sub[module.StoreConfig]{Name: "url", Parse: func(c *cfparse.Cursor, st *module.StoreConfig) error {
		v, err := c.OneValue("redis://127.0.0.1:6379/0")
		if err != nil {
			return err
		}
		if len(st.Addresses) > 0 {
			return c.Errorf("store redis takes url or address, not both; " +
				"use url for one server or address for several")
		}
		if err := checkRedisURL(c, "store redis url", v); err != nil {
			return err
		}
		st.URL = v
		return nil
	}},
	cfparse.Sub[module.StoreConfig]{Name: "address", Repeat: true, Parse: func(c *cfparse.Cursor, st *module.StoreConfig) error {
		args, err := c.SomeValues("host:port", "127.0.0.1:6379")
		if err != nil {
			return err
		}
		if st.URL != "" {
			return c.Errorf("store redis takes url or address, not both; " +
				"use url for one server or address for several")
		}
		for _, a := range args {
			if !cfparse.HasPlaceholder(a) && !isHostPort(a) {
				return c.Errorf("store redis address %q must be host:port, e.g. 127.0.0.1:6379 "+
					"(for a URL use url instead)", a)
			}
		}
		st.Addresses = append(st.Addresses, args...)
		return nil
	}},
	cfparse.String("master_name", "mymaster", func(st *module.StoreConfig) *string { return &st.MasterName }),
	cfparse.String("username", "{env.REDIS_USER}", func(st *module.StoreConfig) *string { return &st.Username }),
	cfparse.Secret("password", "{env.REDIS_PASSWORD}", func(st *module.StoreConfig) *string { return &st.Password }),
	cfparse.Secret("sentinel_password", "{env.SENTINEL_PASSWORD}", func(st *module.StoreConfig) *string { return &st.SentinelPassword }),
	cfparse.Sub[module.StoreConfig]{Name: "db", Parse: func(c *cfparse.Cursor, st *module.StoreConfig) error {
		v, err := c.OneValue("0")
		if err != nil {
			return err
		}
		if err := c.NoPlaceholder(v, "0"); err != nil {
			return err
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c.Errorf("store redis db must be a whole number >= 0 (the Redis database index), e.g. db 0; got %q", v)
		}
		st.DB = n
		return nil
	}},
	cfparse.Sub[module.StoreConfig]{Name: "tls", Parse: func(c *cfparse.Cursor, st *module.StoreConfig) error {
		args, err := c.Values()
		if err != nil {
			return err
		}
		if len(args) > 0 {
			return c.Errorf("store redis tls takes no value; write just: tls")
		}
		st.TLS = true
		return nil
	}},
	cfparse.String("key_prefix", "gatehouse:", func(st *module.StoreConfig) *string { return &st.KeyPrefix }),
	cfparse.Duration("timeout", "2s", 0, func(st *module.StoreConfig) *caddy.Duration { return &st.Timeout }),
)

// checkRedisBlock checks what needs the whole `store redis` block.
func checkRedisBlock(seen map[string]cf.Token, st *module.StoreConfig) error {
	if tok, ok := seen["master_name"]; ok && st.URL == "" && len(st.Addresses) == 0 {
		return cfparse.ErrAt(tok, "store redis master_name needs the Sentinel addresses, "+
			"e.g. address 127.0.0.1:26379 127.0.0.1:26380 127.0.0.1:26381")
	}
	if st.URL != "" {
		for _, x := range []struct{ name, fix string }{
			{"username", "put the user and password in the URL: redis://user:password@host:6379/0"},
			{"password", "put the user and password in the URL: redis://user:password@host:6379/0"},
			{"db", "put the database number in the URL path: redis://host:6379/2"},
			{"tls", "use the rediss:// scheme for TLS"},
			{"master_name", "Sentinels need address <host:port...> instead of url"},
			{"sentinel_password", "Sentinels need address <host:port...> instead of url"},
		} {
			if tok, ok := seen[x.name]; ok {
				return cfparse.ErrAt(tok, "store redis %s cannot be combined with url; %s", x.name, x.fix)
			}
		}
	}
	if tok, ok := seen["db"]; ok && st.DB != 0 && len(st.Addresses) > 1 && st.MasterName == "" {
		return cfparse.ErrAt(tok, "store redis db must be 0 with a Cluster (several addresses without master_name); "+
			"remove db or add master_name for Sentinels")
	}
	if tok, ok := seen["sentinel_password"]; ok && st.MasterName == "" {
		return cfparse.ErrAt(tok, "store redis sentinel_password only applies to Sentinels; "+
			"add master_name <name> or remove sentinel_password")
	}
	return nil
}
