package devicelogin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Keys of the counters, under KeyPrefix + "device:". A device's are named
// by the hash of its code; a person's and an address's by their user id
// and IP, which are no secrets.
func (s *Service) paceKey(device string) string { return s.opts.KeyPrefix + "device:pace:" + device }
func (s *Service) slowKey(device string) string { return s.opts.KeyPrefix + "device:slow:" + device }
func (s *Service) wrongUserKey(userID string) string {
	return s.opts.KeyPrefix + "device:wrong:user:" + userID
}
func (s *Service) wrongIPKey(ip string) string { return s.opts.KeyPrefix + "device:wrong:ip:" + ip }

// counter reads the counter at key, 0 when there is none.
func (s *Service) counter(ctx context.Context, key string) (int64, error) {
	v, err := s.opts.Store.Get(ctx, key, 0)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading a counter: %w", err)
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading a counter: %w", err)
	}
	return n, nil
}

// pace records a poll of the device named by the hash device and reports
// whether it came too soon: within the interval of the one before, which
// is Interval plus SlowDownStep for each poll that came too soon. A poll
// too soon makes the device wait the grown interval from then on.
func (s *Service) pace(ctx context.Context, device string) (slow bool, err error) {
	n, err := s.counter(ctx, s.slowKey(device))
	if err != nil {
		return false, err
	}
	polls, err := s.opts.Store.Incr(ctx, s.paceKey(device), Interval+time.Duration(n)*SlowDownStep)
	if err != nil {
		return false, fmt.Errorf("pacing polls: %w", err)
	}
	if polls == 1 {
		return false, nil
	}
	if n, err = s.opts.Store.Incr(ctx, s.slowKey(device), 2*s.opts.Lifetime); err != nil {
		return false, fmt.Errorf("pacing polls: %w", err)
	}
	if err := s.opts.Store.Set(ctx, s.paceKey(device), []byte("1"), Interval+time.Duration(n)*SlowDownStep); err != nil {
		return false, fmt.Errorf("pacing polls: %w", err)
	}
	return true, nil
}

// forget drops what remains of a device's login once it has collected
// the decision (best effort: each expires by itself).
func (s *Service) forget(ctx context.Context, device string) {
	_ = s.decisions.Claim(ctx, device, &decision{})
	_ = s.opts.Store.Delete(ctx, s.paceKey(device))
	_ = s.opts.Store.Delete(ctx, s.slowKey(device))
}

// guessing reports whether the person userID, or the address ip, entered
// MaxWrongCodes wrong user codes within GuessWindow already.
func (s *Service) guessing(ctx context.Context, userID, ip string) (bool, error) {
	for _, key := range []string{s.wrongUserKey(userID), s.wrongIPKey(ip)} {
		n, err := s.counter(ctx, key)
		if err != nil {
			return false, err
		}
		if n >= MaxWrongCodes {
			return true, nil
		}
	}
	return false, nil
}

// wrong counts a wrong user code against the person and the address, and
// reports whether either is now past MaxWrongCodes (a guess that raced
// others past the limit is answered as over it, and shows nothing).
func (s *Service) wrong(ctx context.Context, userID, ip string) (over bool, err error) {
	for _, key := range []string{s.wrongUserKey(userID), s.wrongIPKey(ip)} {
		n, err := s.opts.Store.Incr(ctx, key, GuessWindow)
		if err != nil {
			return false, fmt.Errorf("counting a wrong user code: %w", err)
		}
		over = over || n > MaxWrongCodes
	}
	return over, nil
}
