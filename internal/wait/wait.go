// Package wait pairs the goroutines that wait for something with the one
// that makes it happen: a proposer waiting for the result of its raft
// entry (Registry), a reader waiting for the applied index (Index), a
// proposer waiting to learn that its proposal was lost with its leader
// (Inflight). It also hands out the request ids proposals are known by
// (IDGenerator). All are safe for concurrent use.
package wait

import "sync"

// Registry pairs requests with their results: the proposer registers its
// request id before proposing, the applier triggers the id with the result.
// Triggering an id nobody waits for (an entry proposed by another member, or
// replayed after a restart) does nothing. The zero value is not ready: use
// NewRegistry.
type Registry[T any] struct {
	mu sync.Mutex
	m  map[uint64]chan T
}

// NewRegistry returns an empty Registry.
func NewRegistry[T any]() *Registry[T] {
	return &Registry[T]{m: make(map[uint64]chan T)}
}

// Register returns the channel that receives id's result, once. A second
// Register of the same id replaces the first.
func (w *Registry[T]) Register(id uint64) <-chan T {
	ch := make(chan T, 1)
	w.mu.Lock()
	w.m[id] = ch
	w.mu.Unlock()
	return ch
}

// Trigger hands r to the waiter of id, if any, and forgets id. It never
// blocks.
func (w *Registry[T]) Trigger(id uint64, r T) {
	w.mu.Lock()
	ch := w.m[id]
	delete(w.m, id)
	w.mu.Unlock()
	if ch != nil {
		ch <- r
	}
}

// Cancel forgets id without sending anything.
func (w *Registry[T]) Cancel(id uint64) {
	w.mu.Lock()
	delete(w.m, id)
	w.mu.Unlock()
}

// Len returns the number of ids registered and not yet triggered or
// canceled.
func (w *Registry[T]) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.m)
}

// Index lets goroutines wait until an index (the applied index) reaches a
// value. The zero value is ready, at index 0.
type Index struct {
	mu      sync.Mutex
	applied uint64
	waiters []indexWait
}

type indexWait struct {
	index uint64
	ch    chan struct{}
}

// Wait returns a channel closed once the index is at least index (at once
// if it is already).
func (w *Index) Wait(index uint64) <-chan struct{} {
	ch := make(chan struct{})
	w.mu.Lock()
	defer w.mu.Unlock()
	if index <= w.applied {
		close(ch)
		return ch
	}
	w.waiters = append(w.waiters, indexWait{index, ch})
	return ch
}

// Advance sets the index to applied and releases every waiter it reaches.
func (w *Index) Advance(applied uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.applied = applied
	kept := w.waiters[:0]
	for _, x := range w.waiters {
		if x.index <= applied {
			close(x.ch)
		} else {
			kept = append(kept, x)
		}
	}
	for i := len(kept); i < len(w.waiters); i++ {
		w.waiters[i] = indexWait{}
	}
	w.waiters = kept
}
