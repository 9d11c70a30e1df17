package backoff

import (
	"context"
	"testing"
	"time"
)

func TestNextDoublesUpToMax(t *testing.T) {
	b := &Backoff{Min: 100 * time.Millisecond, Max: time.Second, Jitter: 0.2}
	base := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for round := range 2 {
		for i, want := range base {
			want *= time.Millisecond
			got := b.Next()
			lo, hi := want*8/10, min(want*12/10, time.Second)
			if got < lo || got > hi {
				t.Fatalf("round %d, wait %d = %v; want %v ±20%% (at most the max)", round, i+1, got, want)
			}
		}
		b.Reset()
	}
}

func TestSpread(t *testing.T) {
	for _, d := range []time.Duration{10, time.Millisecond, 50 * time.Millisecond} {
		lo, hi := d/2, d/2+d // [lo, hi)
		for range 1000 {
			if j := Spread(d, 0.5); j < lo || j >= hi {
				t.Fatalf("Spread(%v, 0.5) = %v, want in [%v, %v)", d, j, lo, hi)
			}
		}
	}
	if got := Spread(time.Second, 0); got != time.Second {
		t.Errorf("Spread without jitter = %v", got)
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Fatal("Sleep outlasted a cancelled context")
	}
	if !Sleep(t.Context(), time.Millisecond) {
		t.Fatal("Sleep reported a cut-short wait")
	}
}
