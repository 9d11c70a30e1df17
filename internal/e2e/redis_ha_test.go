package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/redistest"
)

const (
	// haQuiet is how long a phase must run with only 200s before the store
	// counts as recovered.
	haQuiet = 2 * time.Second
	// haRecoverBy bounds the time from the switch to recovery.
	haRecoverBy = 15 * time.Second
)

// haLoad sends authenticated GETs with one session cookie from several
// goroutines until stopped, counting the answers. A 200 counts only when
// the upstream saw the session's user: anything else was served without
// the identity, which is as bad as a 401.
type haLoad struct {
	tok  string
	user string
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	ok      int
	n503    int
	last503 time.Time
	bad     []string // anything but 200 or 503, first few
	nbad    int
	nerr    int // among nbad: no HTTP answer at all (connection closed or reset)
}

type haCounts struct {
	ok, n503, nbad, nerr int
	last503              time.Time
}

func startHALoad(t *testing.T, tok, user string, workers int) *haLoad {
	return startLoad(t, tok, user, workers, 0)
}

// startLoad runs keepAlive workers that reuse their connections and fresh
// workers that open a new connection for every request (as many clients
// behind NATs and short-lived scripts do).
func startLoad(t *testing.T, tok, user string, keepAlive, fresh int) *haLoad {
	l := &haLoad{tok: tok, user: user, stop: make(chan struct{})}
	newClient := func(reuse bool) *http.Client {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = keepAlive
		tr.DisableKeepAlives = !reuse
		return &http.Client{
			Transport: tr,
			Timeout:   10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	shared, single := newClient(true), newClient(false)
	for i := range keepAlive + fresh {
		client := shared
		if i >= keepAlive {
			client = single
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				l.one(client)
			}
		}()
	}
	t.Cleanup(l.halt)
	return l
}

func (l *haLoad) one(client *http.Client) {
	req, _ := http.NewRequest(http.MethodGet, site+"/ha", nil)
	req.AddCookie(&http.Cookie{Name: cookieName, Value: l.tok})
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	code, detail := 0, ""
	if err != nil {
		detail = err.Error()
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		code = resp.StatusCode
		detail = resp.Status
		if loc := resp.Header.Get("Location"); loc != "" {
			detail += " -> " + loc
		}
		if code == http.StatusOK {
			var echo testsupport.Echo
			if err := json.Unmarshal(body, &echo); err != nil || http.Header(echo.Headers).Get("X-Auth-User-Id") != l.user {
				code, detail = -1, "200 without the session's identity: "+string(body)
			}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch code {
	case http.StatusOK:
		l.ok++
	case http.StatusServiceUnavailable:
		l.n503++
		l.last503 = time.Now()
	default:
		l.nbad++
		if code == 0 {
			l.nerr++
		}
		if len(l.bad) < 5 {
			l.bad = append(l.bad, time.Now().Format("15:04:05.000")+" "+detail)
		}
	}
}

func (l *haLoad) counts() haCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return haCounts{ok: l.ok, n503: l.n503, nbad: l.nbad, nerr: l.nerr, last503: l.last503}
}

// warmUp waits (10 s at most) until the load has been answered ok times,
// so that what follows happens under a running load.
func (l *haLoad) warmUp(t *testing.T, ok int, before string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for l.counts().ok < ok {
		if time.Now().After(deadline) {
			t.Fatalf("no steady load before %s: %+v", before, l.counts())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// firstBad returns the first few failures, with their times.
func (l *haLoad) firstBad() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.bad...)
}

func (l *haLoad) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// haPhaseResult is what one switch of master did to the load.
type haPhaseResult struct {
	served  int           // answers (200 or 503) from the switch's start to recovery
	n503    int           // 503s among them
	recover time.Duration // from the switch's start to the last 503 (0: none)
	took    time.Duration // from the switch's start to the new master being in place
}

// haPhase runs switchMaster under l's load and waits until the answers have
// been only 200s for haQuiet, at most haRecoverBy after the switch. It fails
// t on any answer but 200 or 503. switchMaster calls begin when the outage
// starts (after any preparation); the counts and times run from then.
func haPhase(t *testing.T, l *haLoad, name string, switchMaster func(begin func())) haPhaseResult {
	t.Helper()
	var before haCounts
	var start time.Time
	switchMaster(func() { before, start = l.counts(), time.Now() })
	switched := time.Now()
	for {
		c := l.counts()
		if c.nbad > 0 {
			l.mu.Lock()
			bad := append([]string(nil), l.bad...)
			l.mu.Unlock()
			t.Fatalf("%s: %d answers were neither 200 nor 503 (session lost or served unauthenticated?): %v", name, c.nbad, bad)
		}
		quietSince := switched
		if c.last503.After(quietSince) {
			quietSince = c.last503
		}
		if time.Since(quietSince) >= haQuiet && c.ok > before.ok {
			r := haPhaseResult{served: c.ok + c.n503 - before.ok - before.n503, n503: c.n503 - before.n503, took: switched.Sub(start)}
			if c.last503.After(start) {
				r.recover = c.last503.Sub(start)
			}
			return r
		}
		if time.Since(switched) > haRecoverBy {
			t.Fatalf("%s: still answering 503 (last at %s) %v after the switch; %d ok, %d 503 since the start",
				name, c.last503.Format("15:04:05.000"), haRecoverBy, c.ok-before.ok, c.n503-before.n503)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sessionWorks checks that tok still signs in the same user.
func sessionWorks(t *testing.T, b *browsertest.Browser, tok, user, when string) {
	t.Helper()
	if got := b.Cookie(site, cookieName); got != tok {
		t.Fatalf("%s: the session cookie changed", when)
	}
	if u := upstreamHeaders(t, b, "/after").Get("X-Auth-User-Id"); u != user {
		t.Fatalf("%s: upstream got user %q, want %q", when, u, user)
	}
}

func TestSentinelFailoverUnderLoad(t *testing.T) {
	g := redistest.StartSentinelGroup(t)
	// No session cache: every request reads the session from Redis, so the
	// failover is felt and not hidden by the cache.
	load(t, config{
		storeBlock: fmt.Sprintf("store redis {\n\t\t\taddress %s\n\t\t\tmaster_name %s\n\t\t\ttimeout 1s\n\t\t}",
			strings.Join(g.Sentinels, " "), g.MasterName),
		extra: "session_cache off",
	})
	b := browsertest.NewBrowser(t)
	echo, tok := login(t, b, "/")
	user := http.Header(echo.Headers).Get("X-Auth-User-Id")
	if user == "" {
		t.Fatalf("no X-Auth-User-Id upstream: %v", echo.Headers)
	}
	firstMaster := g.Master()

	l := startHALoad(t, tok, user, 4)
	l.warmUp(t, 20, "failover")

	fo := haPhase(t, l, "SENTINEL FAILOVER", func(begin func()) { begin(); g.Failover(t) })
	secondMaster := g.Master()
	if secondMaster == firstMaster {
		t.Fatalf("master still %s after failover", firstMaster)
	}
	sessionWorks(t, b, tok, user, "after SENTINEL FAILOVER")

	var thirdMaster string
	kill := haPhase(t, l, "master killed", func(begin func()) {
		killed := g.KillMaster(t)
		begin()
		thirdMaster = g.WaitNewMaster(t, killed)
	})
	l.halt()
	if thirdMaster == secondMaster {
		t.Fatalf("master still %s after it was killed", secondMaster)
	}
	sessionWorks(t, b, tok, user, "after the master was killed")
	// The session really lives on the master now in charge.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc := redis.NewClient(&redis.Options{Addr: thirdMaster})
	defer rc.Close()
	if keys, err := rc.Keys(ctx, "gatehouse:*").Result(); err != nil || len(keys) == 0 {
		t.Fatalf("no gatehouse keys on the new master %s: %v %v", thirdMaster, keys, err)
	}

	total := l.counts()
	t.Logf("HA sentinel: failover %s->%s: %d requests served during failover, %d 503s, new master in %v, recovered after %v; "+
		"kill -9 %s->%s: %d served, %d 503s, new master in %v, recovered after %v; total %d ok, %d 503, 0 other",
		firstMaster, secondMaster, fo.served, fo.n503, fo.took.Round(time.Millisecond), fo.recover.Round(time.Millisecond),
		secondMaster, thirdMaster, kill.served, kill.n503, kill.took.Round(time.Millisecond), kill.recover.Round(time.Millisecond),
		total.ok, total.n503)
}

func TestClusterSessions(t *testing.T) {
	c := redistest.StartCluster(t)
	load(t, config{storeBlock: fmt.Sprintf("store redis {\n\t\t\taddress %s\n\t\t}", strings.Join(c.Addrs, " "))})

	// Several browsers, so that their sessions land on different nodes.
	const browsers = 6
	var bs []*browsertest.Browser
	var toks []string
	for range browsers {
		b := browsertest.NewBrowser(t)
		_, tok := login(t, b, "/")
		bs = append(bs, b)
		toks = append(toks, tok)
	}
	for i, tok := range toks {
		if code := status(t, request(t, "GET", "/", tok, nil, "")); code != 200 {
			t.Fatalf("browser %d: GET / with its session: %d", i, code)
		}
	}

	// Where the keys are: every node's own keyspace.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	perNode := make([]int, len(c.Addrs))
	used := 0
	for i, a := range c.Addrs {
		rc := redis.NewClient(&redis.Options{Addr: a})
		keys, err := rc.Keys(ctx, "gatehouse:*").Result()
		if err == nil {
			for _, k := range keys {
				slot, err := rc.ClusterKeySlot(ctx, k).Result()
				if err != nil {
					t.Fatalf("CLUSTER KEYSLOT %s: %v", k, err)
				}
				// The node holds the key's slot: the client routed it right.
				owner, err := rc.Do(ctx, "CLUSTER", "COUNTKEYSINSLOT", slot).Int()
				if err != nil || owner == 0 {
					t.Fatalf("key %s (slot %d) not counted in its slot on %s: %v", k, slot, a, err)
				}
			}
		}
		rc.Close()
		if err != nil {
			t.Fatalf("KEYS on %s: %v", a, err)
		}
		perNode[i] = len(keys)
		if len(keys) > 0 {
			used++
		}
	}
	if used < 2 {
		t.Fatalf("the sessions are not spread over the cluster: keys per node %v", perNode)
	}

	// Signing out one browser ends only its session.
	if code := status(t, signOutWith(t, bs[0], toks[0])); code != http.StatusSeeOther {
		t.Fatalf("logout: %d", code)
	}
	if code := status(t, request(t, "GET", "/", toks[0], map[string]string{"Accept": "application/json"}, "")); code != http.StatusUnauthorized {
		t.Fatalf("the signed-out session still works: %d", code)
	}
	for i, tok := range toks[1:] {
		if code := status(t, request(t, "GET", "/", tok, nil, "")); code != 200 {
			t.Fatalf("browser %d lost its session when browser 0 signed out: %d", i+1, code)
		}
	}
	t.Logf("HA cluster: %d nodes %v, %d sessions, keys per node %v (%d nodes hold keys), logout of 1 ended only its session",
		len(c.Addrs), c.Addrs, browsers, perNode, used)
}

// TestRedisKilledAndRestartedUnderLoad crashes the one redis-server
// (SIGKILL) while clients use a session, and starts it again a second
// later: requests meanwhile get 503 (never a login redirect, a 401 or the
// upstream without identity), and service resumes by itself. The session
// survives because Redis persisted it before the crash (here an explicit
// SAVE; in production RDB snapshots or AOF): a crash without persistence
// loses the sessions written since the last save, and their users sign in
// again.
func TestRedisKilledAndRestartedUnderLoad(t *testing.T) {
	load(t, config{store: "redis", extra: "session_cache off"})
	b := browsertest.NewBrowser(t)
	echo, tok := login(t, b, "/")
	user := http.Header(echo.Headers).Get("X-Auth-User-Id")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := redisSrv.Client().Save(ctx).Err(); err != nil {
		t.Fatalf("SAVE: %v", err)
	}
	running := true
	defer func() {
		if !running {
			_ = redisSrv.Start()
		}
	}()

	l := startHALoad(t, tok, user, 4)
	l.warmUp(t, 20, "the crash")
	var down time.Duration
	r := haPhase(t, l, "redis killed and restarted", func(begin func()) {
		begin()
		t0 := time.Now()
		if err := redisSrv.Kill(); err != nil {
			t.Fatal(err)
		}
		running = false
		time.Sleep(time.Second)
		if err := redisSrv.Start(); err != nil {
			t.Fatal(err)
		}
		running = true
		down = time.Since(t0)
	})
	l.halt()
	if r.n503 == 0 {
		t.Fatal("no 503 while Redis was down: the outage was not felt")
	}
	sessionWorks(t, b, tok, user, "after the restart")
	t.Logf("redis kill -9 and restart: down %v, %d requests answered from the crash to recovery, %d of them 503, 0 other; service back %v after the crash",
		down.Round(time.Millisecond), r.served, r.n503, r.recover.Round(time.Millisecond))
}
