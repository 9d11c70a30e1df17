package e2e

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/internal/gate"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
)

func TestOversizedCookieRefusedBeforeStore(t *testing.T) {
	load(t, config{store: "redis", extra: "session_cache off"})
	_, tok := login(t, testsupport.NewBrowser(t), "/")
	before := redisCommands(t)
	resp := request(t, "GET", "/", tok, map[string]string{"Cookie": "junk=" + strings.Repeat("x", 64<<10) + "; " + cookieName + "=" + tok}, "")
	if code := status(t, resp); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("64 KiB Cookie header: %d, want 431", code)
	}
	// Malformed session cookies are refused without asking Redis either.
	for _, bad := range []string{"*", "a\tb", strings.Repeat("A", 64), tok[:63] + "!", strings.Repeat("x", 4000)} {
		if code := status(t, request(t, "GET", "/", bad, map[string]string{"Accept": "application/json"}, "")); code != http.StatusUnauthorized {
			t.Fatalf("malformed cookie %q: %d", bad[:1], code)
		}
	}
	// The first INFO itself is the one command in between.
	if after := redisCommands(t); after-before != 1 {
		t.Fatalf("refused requests reached Redis: %d commands", after-before-1)
	}
}

// Without the session cache every authenticated request is exactly one
// Redis round trip (GETEX: read and slide the idle timeout); with a warm
// cache it is none.
func TestRedisRoundTripsPerRequest(t *testing.T) {
	for _, c := range []struct {
		extra string
		want  int64
	}{{"session_cache off", 20}, {"session_cache 1m", 0}} {
		t.Run(c.extra, func(t *testing.T) {
			load(t, config{store: "redis", extra: c.extra})
			_, tok := login(t, testsupport.NewBrowser(t), "/")
			status(t, request(t, "GET", "/", tok, nil, "")) // warm
			before := redisCommands(t)
			for i := 0; i < 20; i++ {
				if code := status(t, request(t, "GET", "/", tok, nil, "")); code != 200 {
					t.Fatalf("valid session: %d", code)
				}
			}
			if n := redisCommands(t) - before - 1; n != c.want {
				t.Fatalf("20 authenticated requests made %d Redis commands, want %d", n, c.want)
			}
		})
	}
}

// redisCommands is the number of commands Redis has processed, less the
// INFO calls made to read it.
func redisCommands(t *testing.T) int64 {
	t.Helper()
	info, err := redisSrv.Client().Info(t.Context(), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no total_commands_processed in INFO")
	return 0
}

// A client that starts logins without end is refused with 429 once past
// its allowance, so it cannot flood the store with login states.
func TestLoginStateFloodLimited(t *testing.T) {
	load(t, config{store: "redis"})
	rdb := redis.NewClient(&redis.Options{Addr: redisSrv.Addr})
	defer rdb.Close()
	countStates := func() int {
		keys, err := rdb.Keys(context.Background(), "gatehouse:login:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	before := countStates()
	refused := 0
	for range 200 {
		resp := get(t, site+"/.gatehouse/login/corp?rd=/", nil)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusFound:
		case http.StatusTooManyRequests:
			refused++
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("login start: %d", resp.StatusCode)
		}
	}
	created := countStates() - before
	if refused == 0 || created > gate.FlowBurst+20 {
		t.Errorf("200 login starts from one client: %d refused, %d states stored", refused, created)
	}
}
