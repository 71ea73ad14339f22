package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
)

const auditColumns = `seq, time, actor, action, object_type, object_id, "before", "after", reason, reference,
	prev_hash, hash`

func scanAuditEvent(row interface{ Scan(...any) error }) (*gatehouse.AuditEvent, error) {
	var ev gatehouse.AuditEvent
	if err := row.Scan(&ev.Seq, timeDest{&ev.Time}, &ev.Actor, &ev.Action, &ev.ObjectType, &ev.ObjectID,
		rawDest{&ev.Before}, rawDest{&ev.After}, &ev.Reason, &ev.Reference, &ev.PrevHash, &ev.Hash); err != nil {
		return nil, err
	}
	return &ev, nil
}

// AppendAudit seals ev after the chain head and stores it. The head is read once per
// transaction, locked on PostgreSQL so that concurrent transactions and replicas append one
// after another, and written back before commit.
func (t *tx) AppendAudit(ctx context.Context, ev *gatehouse.AuditEvent) error {
	t.wrote = true
	if err := t.loadHead(ctx); err != nil {
		return err
	}
	if ev.Time.IsZero() {
		ev.Time = t.clock()
	}
	if err := audit.Seal(ev, t.headSeq, t.headHash); err != nil {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s", err.Error())
	}
	return t.insertAudit(ctx, ev)
}

// insertAudit stores a sealed event and advances the head.
func (t *tx) insertAudit(ctx context.Context, ev *gatehouse.AuditEvent) error {
	t.fp.saw(ev.Action)
	var before, after any
	if ev.Before != nil {
		before = string(ev.Before)
	}
	if ev.After != nil {
		after = string(ev.After)
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO audit_events (`+auditColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		ev.Seq, t.d.bindTime(ev.Time), ev.Actor, ev.Action, ev.ObjectType, ev.ObjectID, before, after,
		ev.Reason, ev.Reference, ev.PrevHash, ev.Hash); err != nil {
		if t.d.isUnique(err) {
			// The head says seq is free but an event has it: rows were written around Gatehouse.
			return fmt.Errorf("append audit event %d: the log already holds this sequence; verify the audit chain: %w", ev.Seq, err)
		}
		return fmt.Errorf("append audit event %s %s %s: %w", ev.Action, ev.ObjectType, ev.ObjectID, err)
	}
	t.headSeq, t.headHash, t.headDirty = ev.Seq, ev.Hash, true
	t.audited = true
	t.touched("audit_events", 1)
	return nil
}

// AuditHead inside a transaction includes the transaction's own appends.
func (t *tx) AuditHead(ctx context.Context) (int64, string, error) {
	if t.headLoaded {
		return t.headSeq, t.headHash, nil
	}
	return t.reader.AuditHead(ctx)
}

func (r *reader) AuditHead(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	err := r.q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, audit.GenesisHash, nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read audit head: %w", err)
	}
	return seq, hash, nil
}

func (r *reader) ListAuditEvents(ctx context.Context, f gatehouse.AuditFilter) (gatehouse.Page[*gatehouse.AuditEvent], error) {
	c := &conds{}
	if !f.Since.IsZero() {
		c.add(`time >= ` + c.arg(r.d.bindTime(f.Since)))
	}
	if !f.Until.IsZero() {
		c.add(`time < ` + c.arg(r.d.bindTime(f.Until)))
	}
	if f.Actor != "" {
		c.add(`actor = ` + c.arg(f.Actor))
	}
	switch {
	case f.Action == "":
	case strings.HasSuffix(f.Action, "."):
		prefixRange(c, "action", f.Action)
	default:
		c.add(`action = ` + c.arg(f.Action))
	}
	if f.ObjectType != "" {
		c.add(`object_type = ` + c.arg(f.ObjectType))
	}
	if f.ObjectID != "" {
		c.add(`object_id = ` + c.arg(f.ObjectID))
	}
	return listPage(ctx, r.q, keyset[*gatehouse.AuditEvent]{
		what: "audit events", tag: "audit", sel: `SELECT ` + auditColumns + ` FROM audit_events`, key: `seq`, desc: !f.Ascending, number: true,
		scan: scanAuditEvent, keyOf: func(x *gatehouse.AuditEvent) string { return strconv.FormatInt(x.Seq, 10) },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit})
}

// scanBatch is how many events ScanAuditEvents reads per query.
const scanBatch = 1000

// ScanAuditEvents reads the log in batches by seq and calls fn after each batch's rows are
// closed: memory stays constant for a log of millions of events, no query holds a snapshot for
// the whole scan, and fn may itself use the store.
func (r *reader) ScanAuditEvents(ctx context.Context, fn func(*gatehouse.AuditEvent) error) error {
	// From below any seq, including tampered negative ones.
	return r.ScanAuditRange(ctx, -1<<62+1, math.MaxInt64, fn)
}

// ScanAuditRange is ScanAuditEvents of the events from <= seq <= to: a verifier reads several
// ranges at once, on several connections.
func (r *reader) ScanAuditRange(ctx context.Context, from, to int64, fn func(*gatehouse.AuditEvent) error) error {
	after := from - 1
	cols, scan := auditColumns, func(rows *sql.Rows) (*gatehouse.AuditEvent, error) { return scanAuditEvent(rows) }
	if r.d.name == "sqlite" {
		cols, scan = auditPackedSelect, scanPackedAuditEvent // auditscan.go
	}
	for {
		rows, err := r.q.QueryContext(ctx, `SELECT `+cols+` FROM audit_events WHERE seq > $1 AND seq <= $2
			ORDER BY seq LIMIT $3`, after, to, scanBatch)
		if err != nil {
			return fmt.Errorf("scan audit events: %w", err)
		}
		batch, err := collect(rows, scan)
		if err != nil {
			return fmt.Errorf("scan audit events: %w", err)
		}
		for _, ev := range batch {
			if err := fn(ev); err != nil {
				return err
			}
		}
		if len(batch) < scanBatch {
			return nil
		}
		after = batch[len(batch)-1].Seq
	}
}

// AppendAudits appends evs in order. The JSON of all events is canonicalized in parallel first:
// it does not depend on the chain, and it is most of the CPU cost of sealing. Rows are then
// sealed and inserted: on SQLite one by one with the one prepared statement (multi-row INSERTs
// were measured slower with its driver, which looks up every parameter's name when binding), on
// PostgreSQL bulkRows at a time over arrays (bulk.go).
func (t *tx) AppendAudits(ctx context.Context, evs []*gatehouse.AuditEvent) error {
	if len(evs) == 0 {
		return nil
	}
	t.wrote = true
	if err := t.loadHead(ctx); err != nil {
		return err
	}
	if err := canonicalizeAll(evs); err != nil {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s", err.Error())
	}
	now := t.clock()
	if t.postgresBulk() {
		return t.appendAuditsBulk(ctx, evs, now)
	}
	for _, ev := range evs {
		if ev.Time.IsZero() {
			ev.Time = now
		}
		audit.SealCanonical(ev, t.headSeq, t.headHash)
		if err := t.insertAudit(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// canonicalizeAll runs audit.Canonicalize over evs on every CPU.
func canonicalizeAll(evs []*gatehouse.AuditEvent) error {
	workers := min(runtime.GOMAXPROCS(0), (len(evs)+255)/256)
	if workers <= 1 {
		for _, ev := range evs {
			if err := audit.Canonicalize(ev); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(evs); i += workers {
				if err := audit.Canonicalize(evs[i]); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (r *reader) AuditEvent(ctx context.Context, seq int64) (*gatehouse.AuditEvent, error) {
	ev, err := scanAuditEvent(r.q.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE seq = $1`, seq))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "audit event %d: none is stored", seq)
	}
	if err != nil {
		return nil, fmt.Errorf("read audit event %d: %w", seq, err)
	}
	return ev, nil
}

const appendAuditsSQL = `INSERT INTO audit_events (` + auditColumns + `)
	SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
	$8::text[], $9::text[], $10::text[], $11::text[], $12::text[])`

// appendAuditsBulk seals and inserts canonicalized evs on PostgreSQL, a chunk a statement.
func (t *tx) appendAuditsBulk(ctx context.Context, evs []*gatehouse.AuditEvent, now time.Time) error {
	return inChunks(len(evs), func(lo, hi int) error {
		n := hi - lo
		seqs, times := make([]int64, n), make([]time.Time, n)
		befores, afters := make([]*string, n), make([]*string, n)
		actors, actions, types, objects, reasons, refs, prevs, hashes := make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seq, hash := t.headSeq, t.headHash
		for k, ev := range evs[lo:hi] {
			if ev.Time.IsZero() {
				ev.Time = now
			}
			audit.SealCanonical(ev, seq, hash)
			seq, hash = ev.Seq, ev.Hash
			t.fp.saw(ev.Action)
			seqs[k], times[k], actors[k], actions[k], types[k], objects[k] = ev.Seq, ev.Time, ev.Actor, string(ev.Action), ev.ObjectType, ev.ObjectID
			if ev.Before != nil {
				b := string(ev.Before)
				befores[k] = &b
			}
			if ev.After != nil {
				a := string(ev.After)
				afters[k] = &a
			}
			reasons[k], refs[k], prevs[k], hashes[k] = ev.Reason, ev.Reference, ev.PrevHash, ev.Hash
		}
		if _, err := t.q.ExecContext(ctx, appendAuditsSQL, seqs, pgTimes(times), actors, actions, types, objects,
			befores, afters, reasons, refs, prevs, hashes); err != nil {
			if t.d.isUnique(err) {
				return fmt.Errorf("append audit events %d to %d: the log already holds one of these sequences; verify the audit chain: %w",
					evs[lo].Seq, evs[hi-1].Seq, err)
			}
			return fmt.Errorf("append audit events %d to %d: %w", evs[lo].Seq, evs[hi-1].Seq, err)
		}
		t.headSeq, t.headHash, t.headDirty = seq, hash, true
		t.audited = true
		t.touched("audit_events", n)
		return nil
	})
}
