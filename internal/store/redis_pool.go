package store

import (
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/redis/go-redis/v9"
)

// redisClients holds the clients made by OpenRedis, one per distinct
// options, reference counted. It lives as long as the process, so clients
// survive Caddy config reloads as long as the new config uses them too.
var redisClients = caddy.NewUsagePool()

// redisPoolKey identifies a client in redisClients: the options with the
// timeout defaulted and the addresses joined (slices are not comparable).
type redisPoolKey struct {
	url, addrs, masterName, username, password, sentinelPassword string

	db      int
	tls     bool
	timeout time.Duration
}

func (o RedisOptions) poolKey() redisPoolKey {
	return redisPoolKey{
		url:              o.URL,
		addrs:            strings.Join(o.Addrs, "\x00"),
		masterName:       o.MasterName,
		username:         o.Username,
		password:         o.Password,
		sentinelPassword: o.SentinelPassword,
		db:               o.DB,
		tls:              o.TLS,
		timeout:          o.timeout(),
	}
}

// pooledRedisClient is a client in redisClients; the pool closes it when its
// last reference is deleted.
type pooledRedisClient struct {
	redis.UniversalClient
}

// Destruct implements caddy.Destructor.
func (p pooledRedisClient) Destruct() error {
	if err := p.Close(); err != nil {
		return fmt.Errorf("store: redis close: %w", err)
	}
	return nil
}

// OpenRedis returns a Redis store for opts. Stores opened with equal options
// share one client (and its connection pool), across callers and across
// Caddy config reloads; Close releases this store's reference, and the
// client is closed when the last reference goes. It does not dial: use Ping
// to check that the server answers.
func OpenRedis(opts RedisOptions) (*Redis, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	routeRedisLog()
	key := opts.poolKey()
	v, _, err := redisClients.LoadOrNew(key, func() (caddy.Destructor, error) {
		c, err := opts.newClient()
		if err != nil {
			return nil, err
		}
		c.AddHook(metricsHook{})
		return pooledRedisClient{c}, nil
	})
	if err != nil {
		// A failed constructor leaves no entry behind, so there is no
		// reference to release.
		return nil, err
	}
	c := v.(pooledRedisClient).UniversalClient
	r := &Redis{c: c, reads: &reads{c: c}}
	r.release = func() error {
		_, err := redisClients.Delete(key)
		return err
	}
	return r, nil
}
