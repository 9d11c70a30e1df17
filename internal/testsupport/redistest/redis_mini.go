package redistest

import (
	"fmt"
	"os"
	"sync"

	"github.com/alicebob/miniredis/v2"
)

// miniredisNotice is printed once per process when StartRedis falls back.
const miniredisNotice = "redistest: redis-server not found; using miniredis — install redis-server for the real thing"

var miniredisNoticeOnce sync.Once

// startMiniredis starts the miniredis fallback. Its TTLs follow the wall
// clock, like a real server's, instead of waiting for FastForward.
func startMiniredis() (*Redis, error) {
	miniredisNoticeOnce.Do(func() { fmt.Fprintln(os.Stderr, miniredisNotice) })
	m := miniredis.NewMiniRedis()
	m.ClockTTL(true)
	if err := m.Start(); err != nil {
		return nil, fmt.Errorf("redistest: start miniredis: %w", err)
	}
	return &Redis{Addr: m.Addr(), mini: m}, nil
}
