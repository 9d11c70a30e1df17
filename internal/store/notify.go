package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Notifier broadcasts short messages to every subscriber of a channel —
// in this process for the memory store, across instances for Redis.
// Gatehouse uses it to drop sessions from the in-process caches of all
// instances at once on logout or revocation.
type Notifier interface {
	// Publish sends message to the channel's subscribers.
	Publish(ctx context.Context, channel, message string) error
	// Subscribe calls fn for each message on channel until stop is called.
	// live is called with true once the subscription is in place (and
	// again each time it is re-established), and with false whenever
	// messages may be being missed (the connection broke): a subscriber
	// that caches should drop what it holds at both, and cache only while
	// live.
	Subscribe(channel string, fn func(message string), live func(bool)) (stop func())
}

var (
	_ Notifier = (*Memory)(nil)
	_ Notifier = (*Redis)(nil)
)

// localBus fans messages out within the process.
type localBus struct {
	mu   sync.RWMutex
	next int
	subs map[string]map[int]func(string)
}

// Publish implements Notifier for the memory store.
func (m *Memory) Publish(_ context.Context, channel, message string) error {
	m.bus.mu.RLock()
	defer m.bus.mu.RUnlock()
	for _, fn := range m.bus.subs[channel] {
		fn(message)
	}
	return nil
}

// Subscribe implements Notifier for the memory store; nothing is ever
// missed, so the subscription is live at once, for good.
func (m *Memory) Subscribe(channel string, fn func(string), live func(bool)) func() {
	b := &m.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	defer live(true)
	if b.subs == nil {
		b.subs = map[string]map[int]func(string){}
	}
	if b.subs[channel] == nil {
		b.subs[channel] = map[int]func(string){}
	}
	id := b.next
	b.next++
	b.subs[channel][id] = fn
	return func() {
		b.mu.Lock()
		delete(b.subs[channel], id)
		b.mu.Unlock()
	}
}

// Publish implements Notifier with PUBLISH (in a Cluster it reaches every
// node's subscribers).
func (r *Redis) Publish(ctx context.Context, channel, message string) error {
	if err := r.c.Publish(ctx, channel, message).Err(); err != nil {
		return fmt.Errorf("store: redis publish: %w", err)
	}
	return nil
}

// Subscribe implements Notifier with SUBSCRIBE. The subscription is live
// once Redis confirms it (a message published before is not heard);
// go-redis re-establishes a broken subscription by itself, and every
// confirmation makes it live again, since messages published while the
// connection was down are lost.
func (r *Redis) Subscribe(channel string, fn func(string), live func(bool)) func() {
	ctx, cancel := context.WithCancel(context.Background())
	ps := r.c.Subscribe(ctx, channel)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			msg, err := ps.Receive(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				// Connection trouble: anything cached may be stale by now.
				live(false)
				select {
				case <-ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
			switch m := msg.(type) {
			case *redis.Subscription:
				live(true)
			case *redis.Message:
				fn(m.Payload)
			}
		}
	}()
	return func() {
		cancel()
		_ = ps.Close()
		<-done
	}
}
