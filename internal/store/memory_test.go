package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return storetest.NewMemory(t) })
}

func TestMemoryLen(t *testing.T) {
	m := store.NewMemory()
	defer m.Close()
	ctx := context.Background()
	steps := []struct {
		name string
		do   func() error
		want int
	}{
		{"empty", func() error { return nil }, 0},
		{"set a", func() error { return m.Set(ctx, "a", nil, time.Minute) }, 1},
		{"set b", func() error { return m.Set(ctx, "b", nil, time.Minute) }, 2},
		{"overwrite a", func() error { return m.Set(ctx, "a", []byte("x"), time.Minute) }, 2},
		{"set short", func() error {
			err := m.Set(ctx, "short", nil, time.Millisecond)
			time.Sleep(5 * time.Millisecond)
			return err
		}, 2},
		{"take a", func() error { _, err := m.Take(ctx, "a"); return err }, 1},
		{"delete b", func() error { return m.Delete(ctx, "b") }, 0},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if n := m.Len(); n != st.want {
			t.Fatalf("after %s: Len = %d, want %d", st.name, n, st.want)
		}
	}
}

func TestMemoryClose(t *testing.T) {
	m := store.NewMemory()
	for range 2 {
		if err := m.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	// The store keeps answering.
	ctx := context.Background()
	if err := m.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "k", 0); err != nil {
		t.Fatal(err)
	}
}

func TestMemoryCancelledWrapsContextError(t *testing.T) {
	m := store.NewMemory()
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Get(ctx, "k", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Get = %v, want context.Canceled", err)
	}
}

func BenchmarkMemoryGet(b *testing.B) {
	m := store.NewMemory()
	defer m.Close()
	ctx := context.Background()
	value := make([]byte, 256)
	if err := m.Set(ctx, "session:abc", value, time.Hour); err != nil {
		b.Fatal(err)
	}
	for _, touch := range []time.Duration{0, time.Hour} {
		b.Run(fmt.Sprintf("touch=%v", touch), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Get(ctx, "session:abc", touch); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("touch=%v/parallel", touch), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := m.Get(ctx, "session:abc", touch); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
