// Package registry keeps the Gatehouse handlers of the running Caddy
// configuration, so that what acts on all of them — Caddy's admin API —
// can find them. A handler is added when it is provisioned and removed
// at its cleanup; during a reload the old and the new configuration's
// handlers are both present for a moment.
package registry

import (
	"context"
	"slices"
	"sync"

	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// Sessions is what a handler offers an operator: a user's sessions.
type Sessions interface {
	// UserSessions returns the user's live sessions.
	UserSessions(ctx context.Context, userID string) ([]session.Listed, error)
	// EndUserSessions ends every session of the user, on every instance
	// sharing the store, and revokes the sessions' provider tokens where
	// the provider can; it reports how many sessions it ended and how
	// many sets of tokens the providers revoked.
	EndUserSessions(ctx context.Context, userID string) (ended, revoked int, err error)
}

var (
	mu       sync.Mutex
	handlers []Sessions
)

// Add registers h and returns the function that removes it.
func Add(h Sessions) (remove func()) {
	mu.Lock()
	defer mu.Unlock()
	handlers = append(handlers, h)
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if i := slices.Index(handlers, h); i >= 0 {
			handlers = slices.Delete(handlers, i, i+1)
		}
	}
}

// All returns the registered handlers, oldest first.
func All() []Sessions {
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(handlers)
}
