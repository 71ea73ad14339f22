package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestPackedAuditScan: the packed scan SQLite uses for whole-log reads returns exactly what the
// column-by-column scan returns, for honest rows and for rows an attacker wrote by hand (values
// that look like the packing's header, NULLs, numbers and invalid UTF-8 in text columns).
func TestPackedAuditScan(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs := []*gatehouse.AuditEvent{
		{Time: time.Unix(1_700_000_000, 123_000).UTC(), Actor: "ann@example.com", Action: "grant.create", ObjectType: "grant",
			ObjectID: "g1", After: json.RawMessage(`{"a":"1,2;3"}`), Reason: "3,4;x", Reference: ";"},
		{Time: time.Unix(1_700_000_001, 0).UTC(), Actor: "", Action: "identity.update", ObjectType: "identity", ObjectID: "",
			Before: json.RawMessage(`{}`), Reason: "", Reference: ""},
		{Time: time.Unix(1_700_000_002, 0).UTC(), Actor: "bo", Action: "x", ObjectType: "y", ObjectID: "z", Reason: "é ünïcode ✓"},
	}
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.AppendAudits(ctx, evs) }); err != nil {
		t.Fatal(err)
	}
	db := st.(*sqlStore).write
	for _, q := range []string{
		`UPDATE audit_events SET actor = 42 WHERE seq = 1`,
		`UPDATE audit_events SET reason = X'ff00fe3b2c' WHERE seq = 2`,
		`UPDATE audit_events SET "after" = NULL, "before" = '' WHERE seq = 3`,
		`INSERT INTO audit_events (seq, time, actor, action, object_type, object_id, reason, reference, prev_hash, hash)
			VALUES (-5, 0, '1,2,3;', ';;', ',', '', '-1', '', 'p', 'h')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var plain []*gatehouse.AuditEvent
	rows, err := db.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	plain, err = collect(rows, func(rows *sql.Rows) (*gatehouse.AuditEvent, error) { return scanAuditEvent(rows) })
	if err != nil {
		t.Fatal(err)
	}
	var packed []*gatehouse.AuditEvent
	if err := st.ScanAuditEvents(ctx, func(ev *gatehouse.AuditEvent) error {
		packed = append(packed, ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(packed) != 4 || len(plain) != 4 {
		t.Fatalf("packed scan read %d events, plain %d; want 4", len(packed), len(plain))
	}
	for i := range plain {
		if !reflect.DeepEqual(plain[i], packed[i]) {
			t.Errorf("event %d:\nplain  %+v\npacked %+v", plain[i].Seq, plain[i], packed[i])
		}
	}
}
