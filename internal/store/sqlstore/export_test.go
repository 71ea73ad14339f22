package sqlstore

import (
	"context"
	"database/sql"

	"github.com/gatehouse/gatehouse/internal/store"
)

// PlansOf runs list against a reader of st whose queries are not run but explained (EXPLAIN
// (FORMAT JSON) on PostgreSQL), and returns the plans, one per query: what the store's own
// query texts and arguments would be planned as.
func PlansOf(ctx context.Context, st store.Store, list func(store.Reader)) []string {
	s := st.(*sqlStore)
	e := &explainer{db: s.read}
	list(&reader{q: e, d: s.d, now: s.now})
	return e.plans
}

type explainer struct {
	db    *sql.DB
	plans []string
}

func (e *explainer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return nil, sql.ErrConnDone
}

func (e *explainer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	var plan string
	if err := e.db.QueryRowContext(ctx, `EXPLAIN (FORMAT JSON) `+query, args...).Scan(&plan); err != nil {
		plan = "error: " + err.Error()
	}
	e.plans = append(e.plans, plan)
	return nil, sql.ErrConnDone // the list fails; its plan is what was asked for
}

func (e *explainer) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return e.db.QueryRowContext(ctx, `SELECT 1 WHERE false`)
}
