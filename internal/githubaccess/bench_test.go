package githubaccess

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/fakegithub"
	"github.com/gatehouse-auth/gatehouse/internal/testsupport/redistest"
)

// BenchmarkWebhookIngest measures GitHub webhook deliveries verified
// (HMAC over the raw body) and persisted (the delivery id recorded in the
// store) per second: a ping, and an installation_repositories event that
// is applied to the stored installation.
func BenchmarkWebhookIngest(b *testing.B) {
	gh := fakegithub.NewGitHub()
	defer gh.Close()
	for _, st := range []struct {
		name string
		new  func(b *testing.B) store.Store
	}{
		{"memory", func(*testing.B) store.Store { return store.NewMemory() }},
		{"redis", func(b *testing.B) store.Store {
			r, err := store.OpenRedis(store.RedisOptions{Addrs: []string{redistest.Shared.Addr}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { r.Close() })
			return r
		}},
	} {
		for _, ev := range []struct{ event, body string }{
			{"ping", `{"zen":"Design for failure.","hook_id":1,"hook":{"app_id":42}}`},
			{"installation_repositories", `{"action":"added","installation":{"id":77,"account":{"login":"acme","id":500,"type":"Organization"}},"repository_selection":"selected","repositories_added":[{"id":3,"full_name":"acme/docs","name":"docs","private":false}],"repositories_removed":[],"sender":{"login":"owner","id":9,"type":"User"}}`},
		} {
			b.Run(st.name+"/"+ev.event, func(b *testing.B) {
				svc := instance(&testing.T{}, st.new(b), gh, nil)
				body := []byte(ev.body)
				sig := fakegithub.SignGitHubBody(hookSecret, body)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
					req.Header.Set("X-GitHub-Event", ev.event)
					req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%s-%d-%d", st.name, b.N, i))
					req.Header.Set("X-Hub-Signature-256", sig)
					if code := svc.Webhook(context.Background(), req); code != http.StatusOK {
						b.Fatalf("status %d", code)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
			})
		}
	}
}
