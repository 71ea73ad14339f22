package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
)

// hrImportColumns leave out content, which can be megabytes: lists never need it.
const hrImportColumns = `id, created_at, created_by, file_name, sha256, row_count, status, reason, summary,
	format, decided_by, decided_at, delta`

func scanHRImport(row interface{ Scan(...any) error }, extra ...any) (*gatehouse.HRImport, error) {
	var i gatehouse.HRImport
	dest := []any{&i.ID, timeDest{&i.CreatedAt}, &i.CreatedBy, &i.FileName, &i.SHA256, &i.RowCount, &i.Status,
		&i.Reason, rawDest{&i.Summary}, &i.Format, &i.DecidedBy, nullTimeDest{&i.DecidedAt}, &i.Delta}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	if string(i.Summary) == "{}" {
		i.Summary = nil
	}
	return &i, nil
}

func (r *reader) GetHRImport(ctx context.Context, id string) (*gatehouse.HRImport, error) {
	var content string
	i, err := scanHRImport(r.q.QueryRowContext(ctx, `SELECT `+hrImportColumns+`, content FROM hr_imports WHERE id = $1`, id), &content)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("HR import", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get HR import %q: %w", id, err)
	}
	i.Content = content
	return i, nil
}

// ListHRImports lists imports newest first (ids are time-ordered).
func (r *reader) ListHRImports(ctx context.Context, f gatehouse.HRImportFilter) (gatehouse.Page[*gatehouse.HRImport], error) {
	c := &conds{}
	if f.Status != "" {
		c.add(`status = ` + c.arg(string(f.Status)))
	}
	return listPage(ctx, r.q, keyset[*gatehouse.HRImport]{
		what: "HR imports", tag: "hr-imports", sel: `SELECT ` + hrImportColumns + ` FROM hr_imports`, key: `id`, desc: true,
		scan: func(row rowScanner) (*gatehouse.HRImport, error) { return scanHRImport(row) }, keyOf: func(x *gatehouse.HRImport) string { return x.ID },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit})
}

func summaryText(i *gatehouse.HRImport) string {
	if len(i.Summary) == 0 {
		return "{}"
	}
	return string(i.Summary)
}

func (t *tx) CreateHRImport(ctx context.Context, i *gatehouse.HRImport) error {
	t.wrote = true
	if !i.Status.Valid() {
		return gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not one of applied, held, rejected", i.Status)
	}
	if i.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		i.ID = id
	}
	created := i.CreatedAt.UTC().Truncate(time.Microsecond)
	if i.CreatedAt.IsZero() {
		created = t.clock()
	}
	if i.Format == "" {
		i.Format = "csv"
	}
	decided := utcPtr(i.DecidedAt)
	_, err := t.q.ExecContext(ctx, `INSERT INTO hr_imports (id, created_at, created_by, file_name, sha256, row_count,
		status, reason, summary, format, content, decided_by, decided_at, delta)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		i.ID, t.d.bindTime(created), i.CreatedBy, i.FileName, i.SHA256, i.RowCount, string(i.Status), i.Reason,
		summaryText(i), i.Format, i.Content, i.DecidedBy, t.d.nullTime(decided), i.Delta)
	if err != nil {
		if t.d.isUnique(err) {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "HR import %q already exists", i.ID)
		}
		return fmt.Errorf("create HR import: %w", err)
	}
	i.CreatedAt, i.DecidedAt = created, decided
	return nil
}

func (t *tx) UpdateHRImport(ctx context.Context, i *gatehouse.HRImport) error {
	t.wrote = true
	if !i.Status.Valid() {
		return gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not one of applied, held, rejected", i.Status)
	}
	decided := utcPtr(i.DecidedAt)
	res, err := t.q.ExecContext(ctx, `UPDATE hr_imports SET status = $1, reason = $2, summary = $3, content = $4,
		decided_by = $5, decided_at = $6 WHERE id = $7`,
		string(i.Status), i.Reason, summaryText(i), i.Content, i.DecidedBy, t.d.nullTime(decided), i.ID)
	if err != nil {
		return fmt.Errorf("update HR import %q: %w", i.ID, err)
	}
	if err := affected(res, "HR import", i.ID); err != nil {
		return err
	}
	i.DecidedAt = decided
	return nil
}
