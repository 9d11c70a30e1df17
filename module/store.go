package module

import (
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/placeholder"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// memoryPool keeps the in-memory store alive across config reloads, so a
// reload does not sign everybody out.
var memoryPool = caddy.NewUsagePool()

type pooledMemory struct{ *store.Memory }

func (p pooledMemory) Destruct() error { return p.Memory.Close() }

// openStore returns the configured store and a function releasing it.
// Its errors start with "gatehouse: store".
func (h *Handler) openStore(repl *caddy.Replacer) (store.Store, func() error, error) {
	cfg := h.Store
	if cfg == nil || cfg.Type == "" || cfg.Type == "memory" {
		v, _, err := memoryPool.LoadOrNew("memory", func() (caddy.Destructor, error) {
			return pooledMemory{store.NewMemory()}, nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("gatehouse: store memory: %w", err)
		}
		release := func() error { _, err := memoryPool.Delete("memory"); return err }
		return v.(pooledMemory).Memory, release, nil
	}
	if cfg.Type != "redis" {
		return nil, nil, fmt.Errorf("gatehouse: store type %q is not supported; use memory or redis", cfg.Type)
	}
	// A url, address or master_name that resolves to nothing is refused:
	// Gatehouse would otherwise talk to 127.0.0.1:6379, or to the
	// Sentinels as a Cluster. The user name and passwords may be empty
	// (no AUTH).
	res := &placeholder.Resolver{Repl: repl, Where: "store redis "}
	opts := store.RedisOptions{
		URL:              res.Get("url", cfg.URL),
		Addrs:            res.All("address", cfg.Addresses),
		MasterName:       res.Get("master_name", cfg.MasterName),
		Username:         res.Optional(cfg.Username),
		Password:         res.Optional(cfg.Password),
		SentinelPassword: res.Optional(cfg.SentinelPassword),
		DB:               cfg.DB,
		TLS:              cfg.TLS,
		Timeout:          time.Duration(cfg.Timeout),
	}
	if res.Err != nil {
		return nil, nil, res.Err
	}
	if cfg.URL == "" && len(cfg.Addresses) == 0 {
		opts.Addrs = []string{"127.0.0.1:6379"}
	}
	if err := opts.Validate(); err != nil {
		return nil, nil, fmt.Errorf("gatehouse: store redis: %s", strings.TrimPrefix(err.Error(), "store: redis: "))
	}
	r, err := store.OpenRedis(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("gatehouse: store redis: %s", strings.TrimPrefix(err.Error(), "store: redis: "))
	}
	return r, r.Close, nil
}
