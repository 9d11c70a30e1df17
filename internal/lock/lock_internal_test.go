package lock

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
)

func TestReleaseStopsRenewal(t *testing.T) {
	st := storetest.NewMemory(t)
	l, err := Acquire(t.Context(), st, "k", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.renewalDone:
	default:
		t.Fatal("renewal goroutine still running after Release")
	}
}
