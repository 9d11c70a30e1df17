package e2e

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/testsupport"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/browsertest"
)

// Gatehouse's metrics are in Caddy's registry: the metrics directive
// serves them next to caddy_http_*, and they move with what happens.
func TestMetrics(t *testing.T) {
	load(t, config{store: "redis", site: "handle /metrics {\n\t\tmetrics\n\t}", extra: "public /metrics"})
	before := scrape(t)
	b := browsertest.NewBrowser(t)
	login(t, b, "/.gatehouse/login/corp?rd=/")
	for range 3 {
		upstreamHeaders(t, b, "/")
	}
	resp := browsertest.NewBrowser(t).Get(site + "/.gatehouse/callback/corp?error=access_denied&state=x")
	resp.Body.Close()
	after := scrape(t)

	for _, c := range []struct {
		series string
		min    float64
	}{
		{`gatehouse_logins_total{provider="corp",result="success"}`, 1},
		{`gatehouse_logins_total{provider="corp",result="access_denied"}`, 1},
		{`gatehouse_session_lookups_total{result="cache"}`, 1},
		{`gatehouse_session_lookups_total{result="store"}`, 1},
		{`gatehouse_store_command_duration_seconds_count{command="getex"}`, 1},
	} {
		if d := after[c.series] - before[c.series]; d < c.min {
			t.Errorf("%s grew by %v, want at least %v", c.series, d, c.min)
		}
	}
	if _, ok := after[`gatehouse_forward_queue_depth`]; !ok {
		t.Error("gatehouse_forward_queue_depth is not exported")
	}
}

var sample = regexp.MustCompile(`^(\S+) (\S+)$`)

// scrape reads the metrics endpoint into series → value.
func scrape(t *testing.T) map[string]float64 {
	t.Helper()
	resp, body := testsupport.Fetch(t, http.MethodGet, site+"/metrics", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "caddy_") {
		t.Fatalf("metrics: %d\n%.500s", resp.StatusCode, body)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if m := sample.FindStringSubmatch(line); m != nil && !strings.HasPrefix(line, "#") {
			v, _ := strconv.ParseFloat(m[2], 64)
			out[m[1]] = v
		}
	}
	return out
}
