package sealed_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/sealed"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
)

type record struct {
	Owner string `json:"o"`
	Data  string `json:"d"`
}

func newStore(t *testing.T) (sealed.Store, store.Store) {
	t.Helper()
	ring, err := keys.Derive("sealed-test-secret-0123456789abcdef0123456789")
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.NewMemory(t)
	return sealed.Store{Store: st, Ring: ring}, st
}

func TestPutGetSealed(t *testing.T) {
	s, st := newStore(t)
	if err := s.Put(t.Context(), "k1", record{"alice", "secret-data"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	raw, _ := st.Get(t.Context(), "k1", 0)
	if bytes.Contains(raw, []byte("secret-data")) || bytes.Contains(raw, []byte("alice")) {
		t.Fatalf("the store holds the record in the clear: %q", raw)
	}
	var r record
	if err := s.Get(t.Context(), "k1", 0, &r); err != nil || r.Data != "secret-data" {
		t.Fatalf("Get = %+v, %v", r, err)
	}
	// Moved to another key, it does not open: as good as missing.
	_ = st.Set(t.Context(), "k2", raw, time.Minute)
	if err := s.Get(t.Context(), "k2", 0, &r); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a record moved to another key: %v, want ErrNotFound", err)
	}
	if err := s.Get(t.Context(), "missing", 0, &r); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func TestReplaceOnlyWhatExists(t *testing.T) {
	s, _ := newStore(t)
	if ok, err := s.Replace(t.Context(), "k", record{Data: "x"}, time.Minute); ok || err != nil {
		t.Fatalf("Replace of nothing = %v, %v; want false", ok, err)
	}
	_ = s.Put(t.Context(), "k", record{Data: "x"}, time.Minute)
	if ok, err := s.Replace(t.Context(), "k", record{Data: "y"}, time.Minute); !ok || err != nil {
		t.Fatalf("Replace = %v, %v", ok, err)
	}
	var r record
	if err := s.Get(t.Context(), "k", 0, &r); err != nil || r.Data != "y" {
		t.Fatalf("after Replace: %+v, %v", r, err)
	}
}

// Only the owner's request consumes a flow in progress; anyone else's
// leaves it in place, and it is consumed once.
func TestTakeOwned(t *testing.T) {
	s, _ := newStore(t)
	_ = s.Put(t.Context(), "flow", record{Owner: "alice"}, time.Minute)
	errForeign := errors.New("foreign")
	as := func(who string) error {
		var r record
		return s.TakeOwned(t.Context(), "flow", &r, func() error {
			if r.Owner != who {
				return errForeign
			}
			return nil
		})
	}
	if err := as("mallory"); !errors.Is(err, errForeign) {
		t.Fatalf("mallory: %v", err)
	}
	if err := as("alice"); err != nil {
		t.Fatalf("alice after mallory: %v", err)
	}
	if err := as("alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("alice again: %v, want ErrNotFound", err)
	}
}
