package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse"
)

const identityColumns = `id, employee_id, email, first_name, last_name, department, title, manager_id, location,
	employment_type, status, start_date, end_date, kind, attributes, roles, source, created_at, updated_at`

func scanIdentity(row interface{ Scan(...any) error }, extra ...any) (*gatehouse.Identity, error) {
	var i gatehouse.Identity
	dest := []any{&i.ID, &i.EmployeeID, &i.Email, &i.FirstName, &i.LastName, &i.Department, &i.Title,
		&i.ManagerID, &i.Location, &i.EmploymentType, &i.Status, &i.StartDate, &i.EndDate, &i.Kind,
		jsonDest{&i.Attributes}, jsonDest{&i.Roles}, &i.Source, timeDest{&i.CreatedAt}, timeDest{&i.UpdatedAt}}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	if len(i.Attributes) == 0 {
		i.Attributes = nil
	}
	i.Roles = nilIfEmpty(i.Roles)
	return &i, nil
}

// identitySearch is the identity's search column: what IdentityFilter.Query matches, including
// "first last" as one string.
func identitySearch(i *gatehouse.Identity) string {
	return searchText(i.FirstName+" "+i.LastName, i.Email, i.EmployeeID, i.Title)
}

// GetIdentity finds an identity by id, email (case-insensitive) or employee_id, in that order of
// precedence; each branch uses its own index.
func (r *reader) GetIdentity(ctx context.Context, key string) (*gatehouse.Identity, error) {
	row := r.q.QueryRowContext(ctx, `SELECT `+identityColumns+`, p FROM (
		SELECT `+identityColumns+`, 0 AS p FROM identities WHERE id = $1
		UNION ALL
		SELECT `+identityColumns+`, 1 AS p FROM identities WHERE lower(email) = lower($1)
		UNION ALL
		SELECT `+identityColumns+`, 2 AS p FROM identities WHERE employee_id = $1 AND employee_id <> ''
	) AS m ORDER BY p LIMIT 1`, key)
	var p int
	i, err := scanIdentity(row, &p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("identity", key)
	}
	if err != nil {
		return nil, fmt.Errorf("get identity %q: %w", key, err)
	}
	return i, nil
}

func (r *reader) identityConds(f gatehouse.IdentityFilter) *conds {
	c := &conds{}
	if f.Query != "" {
		c.add(`search LIKE ` + c.arg(searchPattern(f.Query)) + ` ESCAPE '\'`)
	}
	if f.Department != "" {
		c.add(`department = ` + c.arg(f.Department))
	}
	if f.Status != "" {
		// Without statistics SQLite takes either index of two equal terms, and it took the
		// status one, ordered by id like the department one but matching nearly everyone: a
		// page of one department read eight times the rows it returned. "+status" keeps the
		// term out of index choice (SQLite only; PostgreSQL plans by its statistics).
		col := `status`
		if f.Department != "" && r.d.name == "sqlite" {
			col = `+status`
		}
		c.add(col + ` = ` + c.arg(string(f.Status)))
	}
	if f.EmploymentType != "" {
		c.add(`employment_type = ` + c.arg(string(f.EmploymentType)))
	}
	if f.ManagerID != "" {
		c.add(`manager_id = ` + c.arg(f.ManagerID))
	}
	if f.Role != "" {
		// Roles are a JSON array of strings; a role name matches only as a whole element.
		c.add(`roles LIKE ` + c.arg(likeContains(`"`+string(f.Role)+`"`)) + ` ESCAPE '\'`)
	}
	if f.Location != "" {
		c.add(`location = ` + c.arg(f.Location))
	}
	if f.Kind != "" {
		c.add(`kind = ` + c.arg(string(f.Kind)))
	}
	if f.Source != "" {
		c.add(`source = ` + c.arg(f.Source))
	}
	if f.EmployeeID != "" {
		// The unique index on employee_id is partial (WHERE employee_id <> ''), and SQLite uses
		// a partial index only when the query's own terms imply its condition: without the
		// second term every lookup by employee id (each manager step of a request's routing)
		// scanned the whole table.
		c.add(`employee_id = ` + c.arg(f.EmployeeID) + ` AND employee_id <> ''`)
	}
	if f.EmployeeIDFold != "" {
		// lower() folds ASCII letters on SQLite; the argument is folded the same way in SQL.
		c.add(`employee_id <> '' AND lower(employee_id) = lower(` + c.arg(f.EmployeeIDFold) + `)`)
	}
	if f.SCIMExternalID != "" {
		c.add(scimExternalIDExpr(r.d) + ` = ` + c.arg(f.SCIMExternalID))
	}
	if f.SCIMEmail != "" {
		c.add(`(lower(email) = lower(` + c.arg(f.SCIMEmail) + `) OR lower(attributes) LIKE ` +
			c.arg(likeContains(strings.ToLower(scimEmailText(f.SCIMEmail)))) + ` ESCAPE '\')`)
	}
	// Attributes are a JSON object written by encoding/json (sorted keys, no spaces), so a
	// key and value match as the text "key":"value".
	if f.Attribute != nil {
		c.add(`attributes LIKE ` + c.arg(likeContains(attrPair(*f.Attribute))) + ` ESCAPE '\'`)
	}
	if f.WithoutAttribute != nil {
		c.add(`attributes NOT LIKE ` + c.arg(likeContains(attrPair(*f.WithoutAttribute))) + ` ESCAPE '\'`)
	}
	return c
}

// scimEmailText is how an address appears in the stored attributes: as a JSON string within
// the emails list, which is itself a JSON string value of the attributes object (so encoded
// twice, quotes included, so that "a@x.org" does not find "ba@x.org").
func scimEmailText(addr string) string {
	inner, _ := jsonText(addr)
	outer, _ := jsonText(inner)
	return strings.TrimSuffix(strings.TrimPrefix(outer, `"`), `"`)
}

// attrPair is how one attribute appears in the stored JSON text.
func attrPair(a gatehouse.AttributeValue) string {
	k, _ := jsonText(a.Key)
	v, _ := jsonText(a.Value)
	return k + ":" + v
}

func (r *reader) ListIdentities(ctx context.Context, f gatehouse.IdentityFilter) (gatehouse.Page[*gatehouse.Identity], error) {
	c := r.identityConds(f)
	return listPage(ctx, r.q, keyset[*gatehouse.Identity]{
		what: "identities", tag: "identities", sel: `SELECT ` + identityColumns + ` FROM identities`, key: `id`,
		scan: func(row rowScanner) (*gatehouse.Identity, error) { return scanIdentity(row) }, keyOf: func(x *gatehouse.Identity) string { return x.ID },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit, offset: f.Offset})
}

func (r *reader) CountIdentities(ctx context.Context, f gatehouse.IdentityFilter) (int, error) {
	c := r.identityConds(f)
	var n int
	if err := r.q.QueryRowContext(ctx, `SELECT count(*) FROM identities`+c.String(), c.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count identities: %w", err)
	}
	return n, nil
}

// identityConflict turns a unique violation into an error that names the clashing value.
func (t *tx) identityConflict(err error, i *gatehouse.Identity) error {
	switch {
	case t.d.isUnique(err, "email"):
		return gatehouse.Errorf(gatehouse.ECONFLICT, "identity with email %q already exists", i.Email)
	case t.d.isUnique(err, "employee_id"):
		return gatehouse.Errorf(gatehouse.ECONFLICT, "identity with employee_id %q already exists", i.EmployeeID)
	case t.d.isUnique(err):
		return gatehouse.Errorf(gatehouse.ECONFLICT, "identity %q already exists", i.ID)
	}
	return nil
}

func identityArgs(i *gatehouse.Identity) ([]any, error) {
	attrs, err := jsonText(i.Attributes)
	if err != nil {
		return nil, fmt.Errorf("attributes: %w", err)
	}
	if i.Attributes == nil {
		attrs = "{}"
	}
	roles, err := jsonText(nonNil(i.Roles))
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	return []any{i.EmployeeID, i.Email, i.FirstName, i.LastName, i.Department, i.Title, i.ManagerID,
		i.Location, string(i.EmploymentType), string(i.Status), i.StartDate, i.EndDate, string(i.Kind),
		attrs, roles, i.Source, identitySearch(i)}, nil
}

func (t *tx) CreateIdentity(ctx context.Context, i *gatehouse.Identity) error {
	t.wrote = true
	if i.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		i.ID = id
	}
	now := t.clock()
	args, err := identityArgs(i)
	if err != nil {
		return fmt.Errorf("create identity %s: %w", i.Email, err)
	}
	args = append([]any{i.ID}, args...)
	args = append(args, t.d.bindTime(now), t.d.bindTime(now))
	_, err = t.q.ExecContext(ctx, `INSERT INTO identities (id, employee_id, email, first_name, last_name,
		department, title, manager_id, location, employment_type, status, start_date, end_date, kind,
		attributes, roles, source, search, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`, args...)
	if err != nil {
		if cerr := t.identityConflict(err, i); cerr != nil {
			return cerr
		}
		return fmt.Errorf("create identity %s: %w", i.Email, err)
	}
	i.CreatedAt, i.UpdatedAt = now, now
	t.touched("identities", 1)
	return nil
}

func (t *tx) UpdateIdentity(ctx context.Context, i *gatehouse.Identity) error {
	t.wrote = true
	now := t.clock()
	args, err := identityArgs(i)
	if err != nil {
		return fmt.Errorf("update identity %s: %w", i.ID, err)
	}
	args = append(args, t.d.bindTime(now), i.ID)
	res, err := t.q.ExecContext(ctx, `UPDATE identities SET employee_id = $1, email = $2, first_name = $3,
		last_name = $4, department = $5, title = $6, manager_id = $7, location = $8, employment_type = $9,
		status = $10, start_date = $11, end_date = $12, kind = $13, attributes = $14, roles = $15,
		source = $16, search = $17, updated_at = $18
		WHERE id = $19`, args...)
	if err != nil {
		if cerr := t.identityConflict(err, i); cerr != nil {
			return cerr
		}
		return fmt.Errorf("update identity %s: %w", i.ID, err)
	}
	if err := affected(res, "identity", i.ID); err != nil {
		return err
	}
	i.UpdatedAt = now
	t.touched("identities", 1)
	return nil
}
