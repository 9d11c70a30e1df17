package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestRedisStopStartKill(t *testing.T) {
	r := StartRedisT(t)
	if !r.Real {
		t.Log("running against miniredis")
	}
	ctx := context.Background()

	mustSet := func(key string) {
		t.Helper()
		if err := r.Client().Set(ctx, key, "v-"+key, 0).Err(); err != nil {
			t.Fatalf("set %s: %v", key, err)
		}
	}
	get := func(key string) (string, error) {
		t.Helper()
		return r.Client().Get(ctx, key).Result()
	}

	// downAndUp takes the server down with stop (named how), checks that
	// it no longer answers, and starts it again.
	downAndUp := func(how string, stop func() error) {
		t.Helper()
		if err := stop(); err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		if err := r.Client().Ping(ctx).Err(); err == nil {
			t.Fatalf("Ping after %s succeeded", how)
		}
		if err := r.Start(); err != nil {
			t.Fatalf("Start after %s: %v", how, err)
		}
	}

	mustSet("saved")
	if v, err := get("saved"); err != nil || v != "v-saved" {
		t.Fatalf("get saved = %q, %v; want v-saved", v, err)
	}

	downAndUp("Stop", func() error {
		if err := r.Stop(); err != nil {
			return err
		}
		if err := r.Stop(); err != nil {
			return fmt.Errorf("second Stop: %w", err)
		}
		return nil
	})
	if err := r.Start(); err == nil && r.Real {
		t.Fatal("Start on a running server succeeded")
	}
	if v, err := get("saved"); err != nil || v != "v-saved" {
		t.Fatalf("after Stop/Start: get saved = %q, %v; want v-saved", v, err)
	}

	mustSet("unsaved")
	downAndUp("Kill", r.Kill)
	if v, err := get("unsaved"); !errors.Is(err, redis.Nil) {
		t.Fatalf("after Kill/Start: get unsaved = %q, %v; want redis.Nil", v, err)
	}
	if r.Real {
		// The dataset of the last Stop is still there.
		if v, err := get("saved"); err != nil || v != "v-saved" {
			t.Fatalf("after Kill/Start: get saved = %q, %v; want v-saved", v, err)
		}
	}

	r.FlushAll(t)
	if n, err := r.Client().DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("DBSize after FlushAll = %d, %v; want 0", n, err)
	}
}

func TestRedisConfig(t *testing.T) {
	r := StartRedisT(t)
	if !r.Real {
		t.Skip("miniredis has no CONFIG")
	}
	ctx := context.Background()
	tests := []struct {
		param, want string
	}{
		{"save", "3600 1"},
		{"appendonly", "no"},
		{"bind", "127.0.0.1"},
		{"protected-mode", "no"},
		{"dir", r.dir},
	}
	for _, tt := range tests {
		t.Run(tt.param, func(t *testing.T) {
			got, err := r.Client().ConfigGet(ctx, tt.param).Result()
			if err != nil {
				t.Fatal(err)
			}
			if got[tt.param] != tt.want {
				t.Errorf("CONFIG GET %s = %q, want %q", tt.param, got[tt.param], tt.want)
			}
		})
	}
}

func TestRedisCloseRemovesDir(t *testing.T) {
	r, err := StartRedis()
	if err != nil {
		t.Fatal(err)
	}
	if !r.Real {
		t.Skip("miniredis has no dir")
	}
	dir := r.dir
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temp dir %s still there after Close: %v", dir, err)
	}
	if err := r.Start(); err == nil {
		t.Error("Start after Close succeeded")
	}
	if err := ping(r.Addr, 0); err == nil {
		t.Error("server still answers after Close")
	}
}

func TestRedisPortTaken(t *testing.T) {
	r := StartRedisT(t)
	if !r.Real {
		t.Skip("needs redis-server")
	}
	// A second server on the same port and dir fails, and says why.
	other := &Redis{Real: true, bin: r.bin, dir: t.TempDir(), port: r.port, Addr: r.Addr}
	p, err := other.launch()
	if err == nil {
		_ = p.kill()
		t.Fatal("launch on a taken port succeeded")
	}
	if !errors.Is(err, errAddrInUse) {
		t.Errorf("error does not match errAddrInUse: %v", err)
	}
	if !strings.Contains(err.Error(), "redis.log") {
		t.Errorf("error lacks the log tail: %v", err)
	}
}

func TestRedisRequired(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	tests := []struct {
		env      string
		wantErr  bool
		wantReal bool
	}{
		{env: "1", wantErr: true},
		{env: "", wantErr: false},
		{env: "0", wantErr: false},
	}
	for _, tt := range tests {
		t.Run("env="+tt.env, func(t *testing.T) {
			t.Setenv(RequireRedisEnv, tt.env)
			r, err := StartRedis()
			if tt.wantErr {
				if err == nil {
					r.Close()
					t.Fatal("StartRedis succeeded without redis-server")
				}
				if !strings.Contains(err.Error(), "redis-server is required") {
					t.Errorf("error = %v; want it to say redis-server is required", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("StartRedis: %v", err)
			}
			defer r.Close()
			if r.Real {
				t.Error("Real = true for the miniredis fallback")
			}
			if err := r.Client().Ping(context.Background()).Err(); err != nil {
				t.Errorf("Ping miniredis: %v", err)
			}
		})
	}
}

func TestRedisMiniredisTTL(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(RequireRedisEnv, "")
	r, err := StartRedis()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if err := r.Client().Set(ctx, "k", "v", 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := r.Client().Get(ctx, "k").Err()
		if errors.Is(err, redis.Nil) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("key did not expire with the clock: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
