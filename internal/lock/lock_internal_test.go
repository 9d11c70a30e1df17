package lock

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{1, 2, 3, time.Millisecond, DefaultRetryInterval} {
		lo, hi := d/2, d/2+d // [lo, hi)
		for range 1000 {
			if j := jitter(d); j < lo || j >= hi {
				t.Fatalf("jitter(%v) = %v, want in [%v, %v)", d, j, lo, hi)
			}
		}
	}
}

func TestReleaseStopsRenewal(t *testing.T) {
	st := store.NewMemory()
	defer st.Close()
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
