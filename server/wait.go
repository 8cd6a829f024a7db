package server

import "sync"

// waitRegistry pairs proposals with their results: the proposer registers its
// request id before proposing, the applier triggers the id with the result.
// Triggering an id nobody waits for (an entry proposed by another member, or
// replayed after a restart) does nothing.
type waitRegistry struct {
	mu sync.Mutex
	m  map[uint64]chan applyResult
}

func newWaitRegistry() *waitRegistry {
	return &waitRegistry{m: make(map[uint64]chan applyResult)}
}

func (w *waitRegistry) register(id uint64) <-chan applyResult {
	ch := make(chan applyResult, 1)
	w.mu.Lock()
	w.m[id] = ch
	w.mu.Unlock()
	return ch
}

func (w *waitRegistry) trigger(id uint64, r applyResult) {
	w.mu.Lock()
	ch := w.m[id]
	delete(w.m, id)
	w.mu.Unlock()
	if ch != nil {
		ch <- r
	}
}

// cancel forgets id without sending anything.
func (w *waitRegistry) cancel(id uint64) {
	w.mu.Lock()
	delete(w.m, id)
	w.mu.Unlock()
}

// indexWaiter lets goroutines wait until the applied index reaches a value.
type indexWaiter struct {
	mu      sync.Mutex
	applied uint64
	waiters []indexWait
}

type indexWait struct {
	index uint64
	ch    chan struct{}
}

func (w *indexWaiter) wait(index uint64) <-chan struct{} {
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

func (w *indexWaiter) advance(applied uint64) {
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
