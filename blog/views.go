package blog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// ViewStore is where a ViewCounter writes its counts; every Store is one.
type ViewStore interface {
	// AddViews adds the counts in one batched write, all or none.
	AddViews(ctx context.Context, views map[int64]int64) error
}

// viewShards spreads posts over locks, so concurrent views of different
// posts rarely wait for each other.
const viewShards = 16

// FinalFlushTimeout bounds the flush Run makes after its context ends.
const FinalFlushTimeout = 10 * time.Second

// ViewCounter counts post views in memory and writes them in batches:
// Add costs a map increment under one of 16 locks and never touches the
// database; Flush writes every count gathered since the last flush with
// one AddViews. A flush that fails puts its counts back, to be written by
// the next one, so nothing is lost while the process lives; Run flushes
// on every tick and once more when it stops.
//
// It is safe for concurrent use.
type ViewCounter struct {
	store  ViewStore
	log    *slog.Logger
	shards [viewShards]viewShard
	// flushMu makes flushes take turns, so counts put back by a failed
	// flush are never overtaken by a later one's.
	flushMu sync.Mutex
	// inflight holds the batch being written, so Pending still shows it.
	inflightMu sync.Mutex
	inflight   map[int64]int64
}

type viewShard struct {
	mu     sync.Mutex
	counts map[int64]int64
}

// NewViewCounter returns a counter writing to s. A nil logger means
// slog.Default().
func NewViewCounter(s ViewStore, log *slog.Logger) *ViewCounter {
	if log == nil {
		log = slog.Default()
	}
	c := &ViewCounter{store: s, log: log}
	for i := range c.shards {
		c.shards[i].counts = map[int64]int64{}
	}
	return c
}

func (c *ViewCounter) shard(id int64) *viewShard {
	return &c.shards[uint64(id)%viewShards]
}

// Add counts one view of post id.
func (c *ViewCounter) Add(id int64) {
	sh := c.shard(id)
	sh.mu.Lock()
	sh.counts[id]++
	sh.mu.Unlock()
}

// Pending returns the views of post id counted but not yet written
// (being written included).
func (c *ViewCounter) Pending(id int64) int64 {
	c.inflightMu.Lock()
	defer c.inflightMu.Unlock()
	sh := c.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return c.inflight[id] + sh.counts[id]
}

// PendingTotal returns every view counted but not yet written.
func (c *ViewCounter) PendingTotal() int64 {
	c.inflightMu.Lock()
	defer c.inflightMu.Unlock()
	var n int64
	for _, v := range c.inflight {
		n += v
	}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for _, v := range sh.counts {
			n += v
		}
		sh.mu.Unlock()
	}
	return n
}

// Flush writes the counts gathered so far in one AddViews. When the write
// fails, the counts are put back (views added meanwhile are kept too) and
// the error is returned. Nothing to write is no write.
func (c *ViewCounter) Flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	batch := c.takeOut()
	if len(batch) == 0 {
		return nil
	}
	err := c.store.AddViews(ctx, batch)
	c.inflightMu.Lock()
	defer c.inflightMu.Unlock()
	c.inflight = nil
	if err != nil {
		for id, n := range batch {
			sh := c.shard(id)
			sh.mu.Lock()
			sh.counts[id] += n
			sh.mu.Unlock()
		}
		return err
	}
	return nil
}

// takeOut empties the shards into one batch, held as in flight. Lock
// order, everywhere: inflightMu, then a shard's mu.
func (c *ViewCounter) takeOut() map[int64]int64 {
	c.inflightMu.Lock()
	defer c.inflightMu.Unlock()
	batch := map[int64]int64{}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		if len(sh.counts) > 0 {
			for id, n := range sh.counts {
				batch[id] += n
			}
			sh.counts = map[int64]int64{}
		}
		sh.mu.Unlock()
	}
	c.inflight = batch
	return batch
}

// Run flushes on every tick until ctx ends, then flushes what is left
// under a fresh deadline of FinalFlushTimeout and returns that flush's
// error (nil when everything was written). Pass a time.Ticker's channel:
//
//	t := time.NewTicker(5 * time.Second)
//	defer t.Stop()
//	go func() { done <- views.Run(ctx, t.C) }()
//
// A failed tick's flush is logged and retried at the next tick.
func (c *ViewCounter) Run(ctx context.Context, ticks <-chan time.Time) error {
	for {
		select {
		case <-ctx.Done():
			return c.Close(context.WithoutCancel(ctx))
		case <-ticks:
			if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
				c.log.WarnContext(ctx, "blog: writing post views failed; kept for the next flush", "pending", c.PendingTotal(), "err", err)
			}
		}
	}
}

// Close makes the last flush, under a deadline of FinalFlushTimeout from
// now (within ctx's own). It returns the flush's error: the counts stay in
// memory, and are lost only if the process then ends.
func (c *ViewCounter) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, FinalFlushTimeout)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		c.log.ErrorContext(ctx, "blog: the last flush of post views failed", "lost_if_exiting", c.PendingTotal(), "err", err)
		return err
	}
	return nil
}
