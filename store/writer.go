package store

import (
	"context"
)

// Submissions are written by a writer goroutine (group commit): it takes
// every submission waiting when it is free and stores them together in one
// transaction, so a busy centre costs one transaction per batch, not per
// answer, and each submission is acknowledged only after its transaction
// commits. A process has one writer on SQLite and two on PostgreSQL,
// whose batches lock no tally row (see Open and tallydelta.go); several
// papi processes on one PostgreSQL write side by side.

// Submit is CreateResponse with the whole outcome, including whether the
// anomaly checks flagged the response.
func (s *Store) Submit(ctx context.Context, in NewResponse) Result {
	// Checking and encoding happen here, on the caller's goroutine, so the
	// writer spends its time writing.
	prep := s.Prepare(ctx, in)
	if prep.err != nil {
		return Result{Err: prep.err}
	}
	p := &pending{ctx: ctx, prep: prep, done: make(chan Result, 1)}
	// The read lock keeps Close from finishing while a submission is being
	// queued, so nothing is queued after the writer's last drain.
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return Result{Err: errClosed}
	}
	select {
	case s.queue <- p:
		s.closeMu.RUnlock()
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return Result{Err: ctx.Err()}
	}
	select {
	case r := <-p.done:
		return r
	case <-ctx.Done():
		// The batch may still store it; a retry of the same submission id
		// then gets the stored id.
		return Result{Err: ctx.Err()}
	}
}

type pending struct {
	ctx  context.Context
	prep Prepared
	done chan Result
}

// maxBatch bounds one group commit.
const maxBatch = 128

// writeLoop is a writer: it stores queued submissions in batches until the
// store closes, then finishes what is queued.
func (s *Store) writeLoop() {
	batch := make([]*pending, 0, maxBatch)
	for {
		var first *pending
		select {
		case first = <-s.queue:
		case <-s.closing:
			for {
				batch = batch[:0]
			drainAll:
				for len(batch) < maxBatch {
					select {
					case p := <-s.queue:
						batch = append(batch, p)
					default:
						break drainAll
					}
				}
				if len(batch) == 0 {
					return
				}
				s.commit(batch)
			}
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxBatch {
			select {
			case p := <-s.queue:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		s.commit(batch)
	}
}

// commit stores a batch in one transaction. Items whose request was given up
// before its turn are skipped. An item refused for its own reason (a used
// receipt) fails alone; a database error fails the whole batch, and nothing
// of it is stored.
func (s *Store) commit(batch []*pending) {
	live := batch[:0:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- Result{Err: err}
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	ps := make([]Prepared, len(live))
	for i, p := range live {
		ps[i] = p.prep
	}
	results, err := s.createPrepared(context.Background(), ps, true)
	for i, p := range live {
		if err != nil {
			p.done <- Result{Err: err}
			continue
		}
		p.done <- results[i]
	}
}
