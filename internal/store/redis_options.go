package store

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisTimeout is the dial, read and write timeout of each Redis
// command when RedisOptions.Timeout is zero (2 seconds).
const DefaultRedisTimeout = 2 * time.Second

// RedisOptions configures the Redis client. Exactly one of URL or Addrs must
// be set. The zero value is not valid.
type RedisOptions struct {
	// URL is a single-server URL: redis://[user:password@]host[:port][/db],
	// rediss://… for TLS, or unix://[user:password@]/path?db=N. It is parsed
	// with redis.ParseURL; user, password and database come from the URL, so
	// Username, Password, DB, MasterName and SentinelPassword must be empty.
	// Query parameters that set timeouts or retries are overridden by Timeout
	// and the store's retry policy.
	URL string

	// Addrs lists host:port addresses. One address without MasterName is a
	// single server; with MasterName the addresses are Sentinels (one or
	// more); several addresses without MasterName are Cluster seed nodes.
	Addrs []string

	// MasterName is the Sentinel master set name. Default "" (no Sentinel).
	MasterName string
	// Username is the ACL user name. Default "" (the "default" user).
	Username string
	// Password authenticates to the server(s). Default "" (no AUTH).
	Password string
	// SentinelPassword authenticates to the Sentinels. Needs MasterName.
	// Default "" (no AUTH to Sentinels).
	SentinelPassword string
	// DB is the database number selected after connecting. Default 0. Must be
	// 0 for a Cluster.
	DB int
	// TLS connects with TLS 1.2 or later, verifying the server certificate.
	// For a single address the expected name is that address's host; with
	// several addresses each connection verifies the host it dialled.
	// Default false. With URL, use rediss:// instead.
	TLS bool
	// Timeout bounds dialling, and reading and writing each command.
	// Default DefaultRedisTimeout (2s).
	Timeout time.Duration
}

// Validate reports the first problem with o, or nil. Messages never contain
// the password, not even from an unparsable URL.
func (o RedisOptions) Validate() error {
	switch {
	case o.URL != "" && len(o.Addrs) > 0:
		return errors.New("store: redis: set either a url or addresses, not both")
	case o.URL == "" && len(o.Addrs) == 0:
		return errors.New("store: redis: no url or addresses given")
	case o.Timeout < 0:
		return fmt.Errorf("store: redis: timeout must not be negative, got %v", o.Timeout)
	case o.DB < 0:
		return fmt.Errorf("store: redis: db must not be negative, got %d", o.DB)
	case o.SentinelPassword != "" && o.MasterName == "":
		return errors.New("store: redis: sentinel password needs a master name")
	}
	if o.URL != "" {
		_, err := o.parseURL()
		return err
	}
	for _, a := range o.Addrs {
		if err := checkAddr(a); err != nil {
			return err
		}
	}
	if o.cluster() && o.DB != 0 {
		return fmt.Errorf("store: redis: db must be 0 with a cluster (several addresses without a master name), got %d", o.DB)
	}
	return nil
}

// cluster reports whether o describes a Redis Cluster.
func (o RedisOptions) cluster() bool { return o.URL == "" && len(o.Addrs) > 1 && o.MasterName == "" }

// timeout returns Timeout or its default.
func (o RedisOptions) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultRedisTimeout
}

// parseURL checks URL and the fields that must not accompany it, and parses
// it. Errors show the URL only in redacted form.
func (o RedisOptions) parseURL() (*redis.Options, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		// A url.Error quotes the whole URL, password included, and an
		// EscapeError quotes part of it: report neither.
		var ue *url.Error
		var ee url.EscapeError
		if errors.As(err, &ue) && !errors.As(err, &ee) {
			return nil, fmt.Errorf("store: redis: url does not parse: %v", ue.Err)
		}
		return nil, errors.New("store: redis: url does not parse (check that special characters are percent-encoded)")
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
	default:
		return nil, fmt.Errorf("store: redis: url scheme %q: want redis, rediss or unix", u.Scheme)
	}
	switch {
	case o.Username != "" || o.Password != "":
		return nil, errors.New("store: redis: with a url, put the username and password in the url")
	case o.DB != 0:
		return nil, errors.New("store: redis: with a url, put the db number in the url")
	case o.MasterName != "" || o.SentinelPassword != "":
		return nil, errors.New("store: redis: sentinel needs addresses, not a url")
	case o.TLS && u.Scheme != "rediss":
		return nil, errors.New("store: redis: for tls with a url, use the rediss:// scheme")
	}
	opt, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("store: redis: url %s: %w", u.Redacted(), err)
	}
	return opt, nil
}

// checkAddr reports whether a is a usable host:port.
func checkAddr(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" {
		return fmt.Errorf("store: redis: address %q: want host:port", a)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("store: redis: address %q: port must be 1-65535", a)
	}
	return nil
}

// newClient validates o and builds its client. It does not dial: go-redis
// connects on first use and reconnects on its own after an outage.
func (o RedisOptions) newClient() (redis.UniversalClient, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	t := o.timeout()
	if o.URL != "" {
		opt, err := o.parseURL()
		if err != nil {
			return nil, err
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = t, t, t
		opt.MaxRetries = redisMaxRetries
		opt.DialerRetries = redisDialerRetries
		opt.ContextTimeoutEnabled = true
		return redis.NewClient(opt), nil
	}
	uo := &redis.UniversalOptions{
		Addrs:                 append([]string(nil), o.Addrs...),
		MasterName:            o.MasterName,
		Username:              o.Username,
		Password:              o.Password,
		SentinelPassword:      o.SentinelPassword,
		DB:                    o.DB,
		DialTimeout:           t,
		ReadTimeout:           t,
		WriteTimeout:          t,
		MaxRetries:            redisMaxRetries,
		DialerRetries:         redisDialerRetries,
		ContextTimeoutEnabled: true,
	}
	if o.TLS {
		uo.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if len(o.Addrs) == 1 && o.MasterName == "" {
			uo.TLSConfig.ServerName, _, _ = net.SplitHostPort(o.Addrs[0])
		}
	}
	return redis.NewUniversalClient(uo), nil
}

const (
	// redisMaxRetries retries a failed command once, which covers a pooled
	// connection the server closed while idle, without piling up latency
	// during an outage.
	redisMaxRetries = 1
	// redisDialerRetries makes each connection attempt dial once (go-redis
	// defaults to 5 with 100ms pauses), so that an outage fails fast.
	redisDialerRetries = 1
)
