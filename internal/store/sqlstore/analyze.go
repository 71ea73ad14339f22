package sqlstore

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Statistics after bulk writes (PostgreSQL). The planner chooses by the statistics ANALYZE
// gathers, and a table filled by one transaction has none until autovacuum gets to it (a minute
// or more later; never, with autovacuum off): right after an HR import of 100,000 people a page
// of active grants was planned as a scan and sort of every grant. The keyset pages are written
// and indexed so that their plan is right without statistics (migration 0026); on top of that,
// a transaction that wrote many rows of a table has it analyzed right after its commit, in the
// background, so that every other query is planned from the table as it now is.

// analyzeThreshold is the rows a transaction writes to a table past which the table is analyzed
// after the commit: below it autovacuum's own threshold (10% of the table) is soon enough.
const analyzeThreshold = 10_000

// analyzeTimeout bounds one ANALYZE run: it samples a fixed number of rows (30,000 at the
// default statistics target), so it takes well under a second even for large tables, but
// it must never hold a connection for long behind a lock.
const analyzeTimeout = 2 * time.Minute

// analyzer runs the ANALYZE of committed bulk writes, one at a time, in the background.
type analyzer struct {
	mu      sync.Mutex
	pending map[string]bool // tables waiting for the run in progress to end
	running bool
	ctx     context.Context // cancelled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newAnalyzer() *analyzer {
	ctx, cancel := context.WithCancel(context.Background())
	return &analyzer{pending: map[string]bool{}, ctx: ctx, cancel: cancel}
}

// touched records that the transaction wrote n rows of table.
func (t *tx) touched(table string, n int) {
	if t.changed == nil {
		t.changed = map[string]int{}
	}
	t.changed[table] += n
}

// analyzeAfter has the tables t wrote many rows of analyzed, after t's commit, without making
// the committer wait: the answer to the change does not depend on it.
func (s *sqlStore) analyzeAfter(t *tx) {
	if s.d.name != "postgres" || s.analyze == nil {
		return
	}
	a := s.analyze
	a.mu.Lock()
	defer a.mu.Unlock()
	for table, n := range t.changed {
		if n >= analyzeThreshold {
			a.pending[table] = true
		}
	}
	if a.running || len(a.pending) == 0 {
		return // the run in progress takes the new tables after it
	}
	a.running = true
	a.wg.Go(func() { s.runAnalyze() })
}

// runAnalyze analyzes the pending tables until none are left.
func (s *sqlStore) runAnalyze() {
	a := s.analyze
	for {
		a.mu.Lock()
		tables := make([]string, 0, len(a.pending))
		for table := range a.pending {
			tables = append(tables, table)
		}
		clear(a.pending)
		if len(tables) == 0 || a.ctx.Err() != nil {
			a.running = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		slices.Sort(tables)
		ctx, cancel := context.WithTimeout(a.ctx, analyzeTimeout)
		start := time.Now()
		// The names are our own tables' (touched's callers), never input.
		_, err := s.write.ExecContext(ctx, `ANALYZE `+strings.Join(tables, ", "))
		cancel()
		if err != nil && a.ctx.Err() == nil {
			slog.Warn("analyze after a bulk write failed; autovacuum will analyze later", "tables", tables, "err", err)
		} else if err == nil {
			slog.Debug("analyzed after a bulk write", "tables", tables, "took", time.Since(start))
		}
	}
}

// close stops a run in progress and waits for it (before the pool closes).
func (a *analyzer) close() {
	a.cancel()
	a.wg.Wait()
}

// WaitAnalyzed waits until the ANALYZE runs of committed bulk writes have ended (tests and
// benchmarks: what follows is measured against analyzed tables).
func (s *sqlStore) WaitAnalyzed() {
	if s.analyze != nil {
		s.analyze.wg.Wait()
	}
}
