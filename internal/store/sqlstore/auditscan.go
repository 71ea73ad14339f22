package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Verifying the audit chain reads every event, and on SQLite most of that time is the driver
// fetching columns one call at a time, each call taking the connection's mutex. So a scan of
// the whole log asks SQLite for three columns instead of twelve: seq, time, and the ten text
// columns packed into one value behind a header of their byte lengths ("12,9,-1,…;" then the
// bytes, -1 for NULL). Lengths, not separators, keep the packing unambiguous whatever a
// tampered row holds: a value cannot pass for its neighbours.

// packedAuditColumns are the columns of auditPacked, in order.
var packedAuditColumns = []string{"actor", "action", "object_type", "object_id", `"before"`, `"after"`, "reason",
	"reference", "prev_hash", "hash"}

// auditPackedSelect is the SELECT list of a packed scan (SQLite only: PostgreSQL's driver reads
// columns cheaply, and its rows come as they are).
var auditPackedSelect = func() string {
	var lens, vals []string
	for _, c := range packedAuditColumns {
		lens = append(lens, fmt.Sprintf("coalesce(length(CAST(%s AS BLOB)), -1)", c))
		vals = append(vals, fmt.Sprintf("coalesce(CAST(%s AS BLOB), X'')", c))
	}
	return "seq, time, CAST(" + strings.Join(lens, " || ',' || ") + " || ';' AS BLOB) || " + strings.Join(vals, " || ")
}()

// scanPackedAuditEvent reads a row of auditPackedSelect.
func scanPackedAuditEvent(rows *sql.Rows) (*gatehouse.AuditEvent, error) {
	var ev gatehouse.AuditEvent
	var packed string
	if err := rows.Scan(&ev.Seq, timeDest{&ev.Time}, &packed); err != nil {
		return nil, err
	}
	head, body, ok := strings.Cut(packed, ";")
	if !ok {
		return nil, fmt.Errorf("audit event %d: packed row without a header", ev.Seq)
	}
	var fields [10]string
	var null [10]bool
	for i := range fields {
		var n string
		n, head, _ = strings.Cut(head, ",")
		size, err := strconv.Atoi(n)
		if err != nil || size > len(body) {
			return nil, fmt.Errorf("audit event %d: packed row with a bad length %q", ev.Seq, n)
		}
		if size < 0 {
			null[i] = true
			continue
		}
		fields[i], body = body[:size], body[size:]
	}
	if head != "" || body != "" {
		return nil, fmt.Errorf("audit event %d: packed row longer than its header says", ev.Seq)
	}
	ev.Actor, ev.Action, ev.ObjectType, ev.ObjectID = fields[0], gatehouse.AuditAction(fields[1]), fields[2], fields[3]
	if !null[4] {
		ev.Before = json.RawMessage(fields[4])
	}
	if !null[5] {
		ev.After = json.RawMessage(fields[5])
	}
	ev.Reason, ev.Reference, ev.PrevHash, ev.Hash = fields[6], fields[7], fields[8], fields[9]
	return &ev, nil
}
