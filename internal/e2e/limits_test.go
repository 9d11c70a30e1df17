package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

func TestOversizedCookieRefusedBeforeStore(t *testing.T) {
	load(t, config{store: "redis", extra: "session_cache off"})
	_, tok := login(t, browsertest.NewBrowser(t), "/")
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
			_, tok := login(t, browsertest.NewBrowser(t), "/")
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
	if refused == 0 || created > flowBurst+20 {
		t.Errorf("200 login starts from one client: %d refused, %d states stored", refused, created)
	}
}

// flowBurst is how many flows one client may start at once (the README's
// Limits table: 100 at once, then 5 per second).
const flowBurst = 100

// Login states have a bound all instances share: once logins_per_minute
// flows have started in this minute anywhere (the counter lives in the
// store; here another instance's share is written to it directly), the
// next one is refused with 503 and Retry-After, stores nothing, and is
// counted; the per-client limit stays below it.
func TestLoginStatesBoundedAcrossInstances(t *testing.T) {
	load(t, config{store: "redis", extra: "logins_per_minute 5\n\t\tpublic /metrics", site: "handle /metrics {\n\t\tmetrics\n\t}"})
	rdb := redisSrv.Client()
	ctx := t.Context()
	states := func() int {
		keys, err := rdb.Keys(ctx, "gatehouse:login:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	// Keep clear of a minute boundary, where the window starts afresh.
	if s := time.Now().Second(); s > 55 {
		time.Sleep(time.Duration(61-s) * time.Second)
	}
	window := fmt.Sprintf("gatehouse:flows:%d", time.Now().Unix()/60)
	before := scrape(t)
	// Flows started this minute elsewhere (other instances, earlier
	// tests) count: three so far.
	if err := rdb.Set(ctx, window, 3, 2*time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	start := states()
	for i, want := range []int{http.StatusFound, http.StatusFound, http.StatusServiceUnavailable, http.StatusServiceUnavailable} {
		resp := get(t, site+"/.gatehouse/login/corp?rd=/", map[string]string{"Accept": "application/json"})
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("login start %d: %d, want %d: %s", i+1, resp.StatusCode, want, body)
		}
		if want == http.StatusServiceUnavailable && (resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "too_many_logins")) {
			t.Errorf("refused login start: Retry-After %q, body %s", resp.Header.Get("Retry-After"), body)
		}
	}
	if got := states() - start; got != 2 {
		t.Errorf("%d login states stored, want 2 (the limit of 5 less the other instances' 3)", got)
	}
	after := scrape(t)
	if d := after[`gatehouse_flows_refused_total{scope="shared"}`] - before[`gatehouse_flows_refused_total{scope="shared"}`]; d != 2 {
		t.Errorf(`gatehouse_flows_refused_total{scope="shared"} grew by %v, want 2`, d)
	}
}
