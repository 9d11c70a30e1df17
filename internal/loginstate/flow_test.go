package loginstate

import (
	"context"
	"errors"
	"testing"

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
