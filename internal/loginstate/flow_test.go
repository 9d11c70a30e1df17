package loginstate

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/keys"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// link is a flow record of a signed-in user (as an account link is).
type link struct {
	Owner
	Secret string `json:"s"`
}

// A flow begun by a signed-in user is taken by that user, in that
// browser, for that flow only; every refusal leaves it to its owner.
func TestFlowsTakeForItsOwnerOnly(t *testing.T) {
	ring, err := keys.Derive("0123456789abcdef0123456789abcdef-test")
	if err != nil {
		t.Fatal(err)
	}
	mem := store.NewMemory()
	t.Cleanup(func() { mem.Close() })
	f := NewFlows(mem, ring, "t:link:")
	ctx := context.Background()
	b := NewBinding()
	if err := f.Put(ctx, "request-token", b, &link{Owner: Owner{Flow: "jira", UserID: "u1"}, Secret: "s"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name                 string
		handle, binding, flw string
		user                 string
		want                 error
	}{
		{"no handle", "", b, "jira", "u1", ErrNoState},
		{"huge handle", string(make([]byte, maxHandle+1)), b, "jira", "u1", ErrUnknownState},
		{"unknown handle", "other", b, "jira", "u1", ErrUnknownState},
		{"no binding", "request-token", "", "jira", "u1", ErrNoBinding},
		{"another browser", "request-token", NewBinding(), "jira", "u1", ErrForeign},
		{"another user", "request-token", b, "jira", "u2", ErrForeign},
		{"another flow", "request-token", b, "trello", "u1", ErrWrongSite},
	} {
		var got link
		if err := f.Take(ctx, c.handle, c.binding, c.flw, c.user, &got); !errors.Is(err, c.want) || !Refused(err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	var got link
	if err := f.Take(ctx, "request-token", b, "jira", "u1", &got); err != nil || got.Secret != "s" || got.UserID != "u1" {
		t.Fatalf("owner: %v %+v", err, got)
	}
	if err := f.Take(ctx, "request-token", b, "jira", "u1", &got); !errors.Is(err, ErrUnknownState) {
		t.Fatalf("second take: %v", err)
	}
	if Refused(errors.New("store down")) {
		t.Fatal("a store error counted as a refusal")
	}
}

// A flow whose handle is its credential (a device code): recorded with
// no binding, it lives as long as Lasting says, PutNew never overwrites
// it, Take (for a browser) never gives it out, and Claim gives it once to
// whoever presents the handle.
func TestFlowsClaimedByTheirHandle(t *testing.T) {
	ring, err := keys.Derive("0123456789abcdef0123456789abcdef-test")
	if err != nil {
		t.Fatal(err)
	}
	mem := store.NewMemory()
	t.Cleanup(func() { mem.Close() })
	start := time.Now()
	clock := start
	f := NewFlows(mem, ring, "t:device:").Lasting(time.Minute)
	f.now = func() time.Time { return clock }
	ctx := context.Background()

	ok, err := f.PutNew(ctx, "BCDFGHJK", "", &link{Owner: Owner{Flow: "device"}, Secret: "first"})
	if err != nil || !ok {
		t.Fatalf("PutNew: %v %v", ok, err)
	}
	ok, err = f.PutNew(ctx, "BCDFGHJK", "", &link{Owner: Owner{Flow: "device"}, Secret: "second"})
	if err != nil || ok {
		t.Fatalf("PutNew over a live flow: %v %v", ok, err)
	}
	var got link
	if err := f.Get(ctx, "BCDFGHJK", &got); err != nil || got.Secret != "first" || got.Binding != "" {
		t.Fatalf("Get: %v %+v", err, got)
	}
	for _, b := range []string{"", NewBinding()} {
		if err := f.Take(ctx, "BCDFGHJK", b, "device", "", &got); !Refused(err) {
			t.Fatalf("Take of a flow without a browser, binding %q: %v", b, err)
		}
	}
	for _, h := range []string{"", "other", string(make([]byte, maxHandle+1))} {
		if err := f.Claim(ctx, h, &got); !errors.Is(err, ErrUnknownState) {
			t.Errorf("Claim %.10q: %v", h, err)
		}
	}
	clock = start.Add(time.Minute + time.Second)
	if err := f.Get(ctx, "BCDFGHJK", &got); !errors.Is(err, ErrUnknownState) {
		t.Fatalf("Get after its lifetime: %v", err)
	}
	if err := f.Claim(ctx, "BCDFGHJK", &got); !errors.Is(err, ErrUnknownState) {
		t.Fatalf("Claim after its lifetime: %v", err)
	}
	clock = start.Add(30 * time.Second)
	got = link{}
	if err := f.Claim(ctx, "BCDFGHJK", &got); err != nil || got.Secret != "first" {
		t.Fatalf("Claim: %v %+v", err, got)
	}
	if err := f.Claim(ctx, "BCDFGHJK", &got); !errors.Is(err, ErrUnknownState) {
		t.Fatalf("second Claim: %v", err)
	}
	// Claimed, the handle is free again.
	if ok, err := f.PutNew(ctx, "BCDFGHJK", "", &link{Owner: Owner{Flow: "device"}}); err != nil || !ok {
		t.Fatalf("PutNew after the claim: %v %v", ok, err)
	}
}
