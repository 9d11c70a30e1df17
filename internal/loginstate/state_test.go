package loginstate

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
)

func newStates(t *testing.T) *States {
	t.Helper()
	ring, err := keys.Derive("0123456789abcdef0123456789abcdef-test")
	if err != nil {
		t.Fatal(err)
	}
	mem := storetest.NewMemory(t)
	return New(mem, ring, "t:")
}

func TestFinish(t *testing.T) {
	ctx := context.Background()
	binding, other := NewBinding(), NewBinding()
	cases := []struct {
		name     string
		state    func(s *States, st string) string
		binding  string
		provider string
		now      time.Duration
		want     error
	}{
		{"ok", func(_ *States, st string) string { return st }, binding, "corp", 0, nil},
		{"missing state", func(*States, string) string { return "" }, binding, "corp", 0, ErrNoState},
		{"unknown state", func(*States, string) string { return Random(32) }, binding, "corp", 0, ErrUnknownState},
		{"huge state", func(*States, string) string { return string(make([]byte, 4096)) }, binding, "corp", 0, ErrUnknownState},
		{"no binding cookie", func(_ *States, st string) string { return st }, "", "corp", 0, ErrNoBinding},
		{"other browser", func(_ *States, st string) string { return st }, other, "corp", 0, ErrForeign},
		{"other provider", func(_ *States, st string) string { return st }, binding, "github", 0, ErrWrongSite},
		{"expired", func(_ *States, st string) string { return st }, binding, "corp", TTL + time.Second, ErrUnknownState},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStates(t)
			st, err := s.Begin(ctx, binding, Pending{Owner: Owner{Flow: "corp"}, Verifier: "v", Nonce: "n", Redirect: "/x"})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			s.now = func() time.Time { return start.Add(c.now) }
			p, err := s.Finish(ctx, c.state(s, st), c.binding, c.provider)
			if !errors.Is(err, c.want) {
				t.Fatalf("Finish = %v, want %v", err, c.want)
			}
			if c.want == nil && (p.Verifier != "v" || p.Nonce != "n" || p.Redirect != "/x") {
				t.Fatalf("pending = %+v", p)
			}
		})
	}
}

func TestStateIsSingleUse(t *testing.T) {
	s := newStates(t)
	ctx := context.Background()
	b := NewBinding()
	st, _ := s.Begin(ctx, b, Pending{Owner: Owner{Flow: "corp"}})
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Finish(ctx, st, b, "corp"); err == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d callbacks succeeded with one state, want 1", wins.Load())
	}
}

// A foreign attempt (another browser, no browser binding, another
// provider) is refused and leaves the state to its owner, whose own
// callback then works once.
func TestForeignAttemptLeavesStateToOwner(t *testing.T) {
	s := newStates(t)
	ctx := context.Background()
	b := NewBinding()
	st, _ := s.Begin(ctx, b, Pending{Owner: Owner{Flow: "corp"}})
	if _, err := s.Finish(ctx, st, NewBinding(), "corp"); !errors.Is(err, ErrForeign) {
		t.Fatalf("foreign: %v", err)
	}
	if _, err := s.Finish(ctx, st, "", "corp"); !errors.Is(err, ErrNoBinding) {
		t.Fatalf("no binding: %v", err)
	}
	if _, err := s.Finish(ctx, st, b, "other"); !errors.Is(err, ErrWrongSite) {
		t.Fatalf("other provider: %v", err)
	}
	if p, err := s.Finish(ctx, st, b, "corp"); err != nil || p.Flow != "corp" {
		t.Fatalf("the owner's callback after foreign attempts: %v", err)
	}
	if _, err := s.Finish(ctx, st, b, "corp"); !errors.Is(err, ErrUnknownState) {
		t.Fatalf("the owner's second callback: %v", err)
	}
}

func TestValidBinding(t *testing.T) {
	if !ValidBinding(NewBinding()) {
		t.Fatal("fresh binding refused")
	}
	for _, v := range []string{"", "short", NewBinding() + "x", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"} {
		if ValidBinding(v) {
			t.Fatalf("ValidBinding(%q) = true", v)
		}
	}
}
