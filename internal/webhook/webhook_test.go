package webhook_test

import (
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
	"github.com/gatehouse-auth/gatehouse/internal/webhook"
)

func TestApplyOnce(t *testing.T) {
	st := storetest.NewMemory(t)
	ctx := t.Context()
	log := zap.NewNop()

	// Concurrent repeats: one effect.
	var applied atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s := webhook.ApplyOnce(ctx, st, "d:1", time.Hour, webhook.Delivery{Source: "test", Type: "t"}, log, func() error { applied.Add(1); return nil }); s != 200 {
				t.Errorf("status %d", s)
			}
		}()
	}
	wg.Wait()
	if applied.Load() != 1 {
		t.Fatalf("applied %d times", applied.Load())
	}

	// A failure releases the claim: the retry applies.
	if s := webhook.ApplyOnce(ctx, st, "d:2", time.Hour, webhook.Delivery{}, log, func() error { return errors.New("boom") }); s != http.StatusServiceUnavailable {
		t.Fatalf("failed apply: %d", s)
	}
	ran := false
	if s := webhook.ApplyOnce(ctx, st, "d:2", time.Hour, webhook.Delivery{}, log, func() error { ran = true; return nil }); s != 200 || !ran {
		t.Fatalf("retry after a failure: %d, ran %v", s, ran)
	}
}
