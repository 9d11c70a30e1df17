package provider_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/provider"
)

func TestRefreshDue(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		name           string
		expiry, issued time.Time
		want           bool
	}{
		{"no expiry", time.Time{}, now, false},
		{"an hour left", now.Add(time.Hour), now, false},
		{"within the minute", now.Add(50 * time.Second), now.Add(-time.Hour), true},
		{"expired", now.Add(-time.Second), time.Time{}, true},
		{"short token, two thirds left", now.Add(2 * time.Second), now.Add(-time.Second), false},
		{"short token, last third", now.Add(900 * time.Millisecond), now.Add(-2100 * time.Millisecond), true},
	} {
		if got := provider.RefreshDue(c.expiry, c.issued, now); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestRetryRefresh(t *testing.T) {
	transient, final := errors.New("503"), errors.New("invalid_grant")
	isFinal := func(err error) bool { return errors.Is(err, final) }
	for _, c := range []struct {
		name  string
		errs  []error
		calls int
		want  error
	}{
		{"ok at once", []error{nil}, 1, nil},
		{"ok after two failures", []error{transient, transient, nil}, 3, nil},
		{"gives up after three", []error{transient, transient, transient, nil}, 3, transient},
		{"permanent stops at once", []error{final, nil}, 1, final},
	} {
		calls := 0
		_, err := provider.RetryRefresh(context.Background(), isFinal, func(context.Context) (int, error) {
			calls++
			return calls, c.errs[calls-1]
		})
		if calls != c.calls || !errors.Is(err, c.want) && err != c.want {
			t.Errorf("%s: %d calls, %v; want %d, %v", c.name, calls, err, c.calls, c.want)
		}
	}
}
