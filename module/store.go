package module

import (
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// memoryPool keeps the in-memory store alive across config reloads, so a
// reload does not sign everybody out.
var memoryPool = caddy.NewUsagePool()

type pooledMemory struct{ *store.Memory }

func (p pooledMemory) Destruct() error { return p.Memory.Close() }

// openStore returns the configured store and a function releasing it.
func (h *Handler) openStore(repl *caddy.Replacer) (store.Store, func() error, error) {
	cfg := h.Store
	if cfg == nil || cfg.Type == "" || cfg.Type == "memory" {
		v, _, err := memoryPool.LoadOrNew("memory", func() (caddy.Destructor, error) {
			return pooledMemory{store.NewMemory()}, nil
		})
		if err != nil {
			return nil, nil, err
		}
		release := func() error { _, err := memoryPool.Delete("memory"); return err }
		return v.(pooledMemory).Memory, release, nil
	}
	if cfg.Type != "redis" {
		return nil, nil, fmt.Errorf("store type %q is not supported; use memory or redis", cfg.Type)
	}
	opts := store.RedisOptions{
		URL:              repl.ReplaceKnown(cfg.URL, ""),
		MasterName:       repl.ReplaceKnown(cfg.MasterName, ""),
		Username:         repl.ReplaceKnown(cfg.Username, ""),
		Password:         repl.ReplaceKnown(cfg.Password, ""),
		SentinelPassword: repl.ReplaceKnown(cfg.SentinelPassword, ""),
		DB:               cfg.DB,
		TLS:              cfg.TLS,
		Timeout:          time.Duration(cfg.Timeout),
	}
	for _, a := range cfg.Addresses {
		opts.Addrs = append(opts.Addrs, repl.ReplaceKnown(a, ""))
	}
	if opts.URL == "" && len(opts.Addrs) == 0 {
		opts.Addrs = []string{"127.0.0.1:6379"}
	}
	if err := opts.Validate(); err != nil {
		return nil, nil, fmt.Errorf("store redis: %w", err)
	}
	r, err := store.OpenRedis(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("store redis: %w", err)
	}
	return r, r.Close, nil
}
