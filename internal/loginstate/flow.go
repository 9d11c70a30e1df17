package loginstate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/sealed"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Errors of a flow in progress that must be refused: every flow (a login,
// an account link, a GitHub App connection, a Nango login) reports these
// and no others; Refused tells them from a store that cannot answer.
var (
	ErrNoState      = errors.New("the request has no state parameter")
	ErrUnknownState = errors.New("it is unknown, expired or already used")
	ErrNoBinding    = errors.New("the sign-in cookie is missing: it was started in another browser, or cookies are blocked")
	ErrForeign      = errors.New("it was started in another browser or by another user")
	ErrWrongSite    = errors.New("it was started for another provider or connection")
)

// Refused reports whether err is one of the errors of a flow that must be
// refused (as opposed to a store that could not answer).
func Refused(err error) bool {
	for _, e := range []error{ErrNoState, ErrUnknownState, ErrNoBinding, ErrForeign, ErrWrongSite} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Owner binds a flow in progress to the browser (and user) that began it
// and to where it goes. Every flow's record embeds it.
type Owner struct {
	// Flow names what the flow is for: a provider's name for a login,
	// "github-app", a connection's name for a link.
	Flow string `json:"p"`
	// Binding is the hex SHA-256 of the browser binding cookie.
	Binding string `json:"b"`
	// UserID is the signed-in user who began it, "" for a login.
	UserID string `json:"u,omitempty"`
	// Created is when the flow began.
	Created time.Time `json:"c"`
}

func (o *Owner) owner() *Owner { return o }

// Record is a flow's record: a struct embedding Owner.
type Record interface{ owner() *Owner }

// Flows keeps flows in progress, sealed, for TTL at most (or the lifetime
// Lasting sets): Put records one under a handle (the state, or an OAuth
// 1.0a request token); Take consumes it for its owner only. A flow whose
// handle is itself the credential (a device code, a user code) has no
// browser to be bound to: it is recorded with PutNew or Put and no
// binding, and consumed with Claim by whoever presents the handle.
type Flows struct {
	records sealed.Store
	prefix  string
	now     func() time.Time
	// ttl is how long a record lives; 0 is TTL.
	ttl time.Duration
}

// Lasting returns f with its records living ttl instead of TTL.
func (f Flows) Lasting(ttl time.Duration) Flows {
	f.ttl = ttl
	return f
}

// life is how long f's records live.
func (f Flows) life() time.Duration {
	if f.ttl > 0 {
		return f.ttl
	}
	return TTL
}

// maxHandle bounds a handle a client sends back.
const maxHandle = 512

func (f Flows) key(handle string) string { return f.prefix + hashHex(handle) }

// Put records rec for the browser holding binding under handle; it
// stamps rec's Owner with the binding's hash and the time. With no
// binding the flow is bound to no browser: Take never gives it out, only
// Claim does.
func (f Flows) Put(ctx context.Context, handle, binding string, rec Record) error {
	f.stamp(binding, rec)
	if err := f.records.Put(ctx, f.key(handle), rec, f.life()); err != nil {
		return fmt.Errorf("recording the flow in progress: %w", err)
	}
	return nil
}

// PutNew is Put for a handle that must not be in use yet (one drawn from
// a small space, such as a user code): it records nothing and reports
// false when a flow is already recorded under handle.
func (f Flows) PutNew(ctx context.Context, handle, binding string, rec Record) (bool, error) {
	f.stamp(binding, rec)
	ok, err := f.records.PutNew(ctx, f.key(handle), rec, f.life())
	if err != nil {
		return false, fmt.Errorf("recording the flow in progress: %w", err)
	}
	return ok, nil
}

// stamp sets rec's Owner's binding hash ("" for none) and time.
func (f Flows) stamp(binding string, rec Record) {
	o := rec.owner()
	o.Binding = ""
	if binding != "" {
		o.Binding = hashHex(binding)
	}
	o.Created = f.now().UTC()
}

// Take consumes the flow recorded under handle into rec, for the browser
// holding binding, the flow named flow and the user userID ("" for a
// login) only: of concurrent or replayed requests one gets it, and a
// request from anyone else leaves it in place. Errors other than this
// package's mean the store could not answer.
func (f Flows) Take(ctx context.Context, handle, binding, flow, userID string, rec Record) error {
	if handle == "" {
		return ErrNoState
	}
	if len(handle) > maxHandle {
		return ErrUnknownState
	}
	o := rec.owner()
	err := f.records.TakeOwned(ctx, f.key(handle), rec, func() error {
		switch {
		case f.now().Sub(o.Created) > f.life():
			return ErrUnknownState
		case binding == "":
			return ErrNoBinding
		case !SameBrowser(o.Binding, binding) || o.UserID != userID:
			return ErrForeign
		case o.Flow != flow:
			return ErrWrongSite
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnknownState
	}
	return err
}

// Claim consumes the flow recorded under handle into rec for whoever
// presents handle, which is itself the credential (a device code, a user
// code): of concurrent or replayed requests one gets it. ErrUnknownState
// when there is none, it expired, or another request took it; other
// errors mean the store could not answer.
func (f Flows) Claim(ctx context.Context, handle string, rec Record) error {
	if handle == "" || len(handle) > maxHandle {
		return ErrUnknownState
	}
	o := rec.owner()
	err := f.records.TakeOwned(ctx, f.key(handle), rec, func() error {
		if f.now().Sub(o.Created) > f.life() {
			return ErrUnknownState
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnknownState
	}
	return err
}

// Get reads the flow recorded under handle into rec without taking it
// (a flow that others add to before its owner finishes it: Nango reports
// a login through a webhook). ErrUnknownState when there is none, or it
// expired.
func (f Flows) Get(ctx context.Context, handle string, rec Record) error {
	if handle == "" || len(handle) > maxHandle {
		return ErrUnknownState
	}
	err := f.records.Get(ctx, f.key(handle), 0, rec)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrUnknownState
	case err != nil:
		return err
	case f.now().Sub(rec.owner().Created) > f.life():
		return ErrUnknownState
	}
	return nil
}

// Update writes rec, read with Get, back under handle for the rest of its
// lifetime; ErrUnknownState when that has run out.
func (f Flows) Update(ctx context.Context, handle string, rec Record) error {
	ttl := f.life() - f.now().Sub(rec.owner().Created)
	if ttl <= 0 {
		return ErrUnknownState
	}
	if err := f.records.Put(ctx, f.key(handle), rec, ttl); err != nil {
		return fmt.Errorf("recording the flow in progress: %w", err)
	}
	return nil
}
