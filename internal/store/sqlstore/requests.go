package sqlstore

// Access requests and approval delegations.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

func scanRequest(row interface{ Scan(...any) error }) (*gatehouse.AccessRequest, error) {
	var doc string
	var version int64
	if err := row.Scan(&doc, &version); err != nil {
		return nil, err
	}
	var r gatehouse.AccessRequest
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return nil, fmt.Errorf("request document: %w", err)
	}
	r.Version = version
	return &r, nil
}

func (r *reader) GetRequest(ctx context.Context, idOrRef string) (*gatehouse.AccessRequest, error) {
	q, arg := `SELECT doc, version FROM requests WHERE id = $1`, any(idOrRef)
	if n, ok := gatehouse.ParseRequestRef(idOrRef); ok {
		q, arg = `SELECT doc, version FROM requests WHERE number = $1`, n
	}
	req, err := scanRequest(r.q.QueryRowContext(ctx, q, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("request", idOrRef)
	}
	if err != nil {
		return nil, fmt.Errorf("get request %q: %w", idOrRef, err)
	}
	return req, nil
}

// ListRequests lists requests newest first, by number.
func (r *reader) ListRequests(ctx context.Context, f gatehouse.RequestFilter) (gatehouse.Page[*gatehouse.AccessRequest], error) {
	c := &conds{}
	if f.RequesterID != "" {
		c.add(`requester_id = ` + c.arg(f.RequesterID))
	}
	if f.BeneficiaryID != "" {
		c.add(`beneficiary_id = ` + c.arg(f.BeneficiaryID))
	}
	if f.Party != "" {
		a := c.arg(f.Party)
		c.add(`(requester_id = ` + a + ` OR beneficiary_id = ` + a + `)`)
	}
	if len(f.Approvers) > 0 {
		ph := make([]string, len(f.Approvers))
		for i, id := range f.Approvers {
			ph[i] = c.arg(id)
		}
		c.add(`id IN (SELECT request_id FROM request_approvers WHERE identity_id IN (` + strings.Join(ph, ", ") + `))`)
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, s := range f.States {
			ph[i] = c.arg(string(s))
		}
		c.add(`state IN (` + strings.Join(ph, ", ") + `)`)
	}
	return listPage(ctx, r.q, keyset[*gatehouse.AccessRequest]{
		what: "requests", tag: "requests", sel: `SELECT doc, version FROM requests`, key: `number`, desc: true,
		number: true, badNumber: "cursor: not a requests cursor",
		scan: scanRequest, keyOf: func(x *gatehouse.AccessRequest) string { return strconv.FormatInt(x.Number, 10) },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit})
}

// requestDoc normalizes the times of r as the store keeps them and encodes it.
func requestDoc(r *gatehouse.AccessRequest) (string, error) {
	r.CreatedAt, r.UpdatedAt, r.SubmittedAt, r.DueAt = utc(r.CreatedAt), utc(r.UpdatedAt), utc(r.SubmittedAt), utc(r.DueAt)
	r.ApprovedAt, r.FulfilledAt = utcPtr(r.ApprovedAt), utcPtr(r.FulfilledAt)
	for i := range r.Steps {
		r.Steps[i].DecidedAt = utcPtr(r.Steps[i].DecidedAt)
		r.Steps[i].Approvers = nonNil(r.Steps[i].Approvers)
		r.Steps[i].Emails = nonNil(r.Steps[i].Emails)
	}
	for i := range r.Events {
		r.Events[i].At = utc(r.Events[i].At)
	}
	r.Entitlements, r.Steps, r.Events, r.GrantIDs = nonNil(r.Entitlements), nonNil(r.Steps), nonNil(r.Events), nonNil(r.GrantIDs)
	r.Findings.SoD, r.Findings.Peers = nonNil(r.Findings.SoD), nonNil(r.Findings.Peers)
	return jsonText(r)
}

// currentApprovers are the identities the inbox shows r to: the current step's approvers of an
// open request.
func currentApprovers(r *gatehouse.AccessRequest) []string {
	if r.State != gatehouse.RequestPendingApproval {
		return nil
	}
	i := r.CurrentStep()
	if i < 0 {
		return nil
	}
	ids := slices.Clone(r.Steps[i].Approvers)
	slices.Sort(ids)
	return slices.Compact(ids)
}

func (t *tx) writeApprovers(ctx context.Context, r *gatehouse.AccessRequest, replace bool) error {
	if replace {
		if _, err := t.q.ExecContext(ctx, `DELETE FROM request_approvers WHERE request_id = $1`, r.ID); err != nil {
			return fmt.Errorf("request %s approvers: %w", r.Ref, err)
		}
	}
	for _, id := range currentApprovers(r) {
		if _, err := t.q.ExecContext(ctx, `INSERT INTO request_approvers (request_id, identity_id) VALUES ($1, $2)`, r.ID, id); err != nil {
			return fmt.Errorf("request %s approvers: %w", r.Ref, err)
		}
	}
	return nil
}

func (t *tx) CreateRequest(ctx context.Context, r *gatehouse.AccessRequest) error {
	t.wrote = true
	if !r.State.Valid() {
		return gatehouse.Errorf(gatehouse.EINVALID, "state: %q is not a request state", r.State)
	}
	id, err := newID()
	if err != nil {
		return err
	}
	n, err := nextNumber(ctx, t.q, "request_numbers")
	if err != nil {
		return fmt.Errorf("create request: %w", err)
	}
	now := t.clock()
	r.ID, r.Number, r.Ref, r.Version = id, n, gatehouse.RequestRef(n), 1
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	doc, err := requestDoc(r)
	if err != nil {
		return fmt.Errorf("create request: %w", err)
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO requests (id, number, requester_id, beneficiary_id, state, created_at,
		updated_at, due_at, version, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.ID, r.Number, r.RequesterID, r.BeneficiaryID, string(r.State), t.d.bindTime(r.CreatedAt),
		t.d.bindTime(r.UpdatedAt), t.d.bindTime(r.DueAt), r.Version, doc); err != nil {
		if t.d.isForeignKey(err) {
			return gatehouse.Errorf(gatehouse.EINVALID, "request: requester or beneficiary is not an identity")
		}
		return fmt.Errorf("create request: %w", err)
	}
	return t.writeApprovers(ctx, r, false)
}

func (t *tx) UpdateRequest(ctx context.Context, r *gatehouse.AccessRequest) error {
	t.wrote = true
	if !r.State.Valid() {
		return gatehouse.Errorf(gatehouse.EINVALID, "state: %q is not a request state", r.State)
	}
	prev := r.Version
	r.Version, r.UpdatedAt = prev+1, t.clock()
	doc, err := requestDoc(r)
	if err != nil {
		r.Version = prev
		return fmt.Errorf("update request: %w", err)
	}
	res, err := t.q.ExecContext(ctx, `UPDATE requests SET state = $1, updated_at = $2, due_at = $3, version = $4, doc = $5
		WHERE id = $6 AND version = $7`,
		string(r.State), t.d.bindTime(r.UpdatedAt), t.d.bindTime(r.DueAt), r.Version, doc, r.ID, prev)
	if err != nil {
		r.Version = prev
		return fmt.Errorf("update request %s: %w", r.Ref, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		r.Version = prev
		return fmt.Errorf("update request %s: %w", r.Ref, err)
	} else if n == 0 {
		r.Version = prev
		if _, err := t.GetRequest(ctx, r.ID); err != nil {
			return err
		}
		return gatehouse.Errorf(gatehouse.ECONFLICT, "request %s was changed by someone else meanwhile; reload it and try again", r.Ref)
	}
	return t.writeApprovers(ctx, r, true)
}

const delegationColumns = `id, from_id, to_id, starts_at, ends_at, reason, created_by, created_at`

func scanDelegation(row interface{ Scan(...any) error }) (*gatehouse.Delegation, error) {
	var d gatehouse.Delegation
	if err := row.Scan(&d.ID, &d.FromID, &d.ToID, timeDest{&d.StartsAt}, timeDest{&d.EndsAt}, &d.Reason, &d.CreatedBy,
		timeDest{&d.CreatedAt}); err != nil {
		return nil, err
	}
	return &d, nil
}

func (r *reader) ListDelegations(ctx context.Context, f gatehouse.DelegationFilter) ([]*gatehouse.Delegation, error) {
	c := &conds{}
	if f.FromID != "" {
		c.add(`from_id = ` + c.arg(f.FromID))
	}
	if f.ToID != "" {
		c.add(`to_id = ` + c.arg(f.ToID))
	}
	if !f.ActiveAt.IsZero() {
		at := r.d.bindTime(utc(f.ActiveAt))
		c.add(`starts_at <= ` + c.arg(at))
		c.add(`ends_at > ` + c.arg(at))
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+delegationColumns+` FROM delegations`+c.String()+` ORDER BY id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list delegations: %w", err)
	}
	out, err := collect(rows, func(rows *sql.Rows) (*gatehouse.Delegation, error) { return scanDelegation(rows) })
	if err != nil {
		return nil, fmt.Errorf("list delegations: %w", err)
	}
	return nonNil(out), nil
}

func (t *tx) CreateDelegation(ctx context.Context, d *gatehouse.Delegation) error {
	t.wrote = true
	if d.FromID == "" || d.ToID == "" || !d.StartsAt.Before(d.EndsAt) {
		return gatehouse.Errorf(gatehouse.EINVALID, "delegation: from, to, and a start before the end are required")
	}
	id, err := newID()
	if err != nil {
		return err
	}
	d.ID = id
	if d.CreatedAt.IsZero() {
		d.CreatedAt = t.clock()
	}
	d.CreatedAt, d.StartsAt, d.EndsAt = utc(d.CreatedAt), utc(d.StartsAt), utc(d.EndsAt)
	if _, err := t.q.ExecContext(ctx, `INSERT INTO delegations (`+delegationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.ID, d.FromID, d.ToID, t.d.bindTime(d.StartsAt), t.d.bindTime(d.EndsAt), d.Reason, d.CreatedBy, t.d.bindTime(d.CreatedAt)); err != nil {
		if t.d.isForeignKey(err) {
			return gatehouse.Errorf(gatehouse.EINVALID, "delegation: from and to must be identities")
		}
		return fmt.Errorf("create delegation: %w", err)
	}
	return nil
}

func (r *reader) CountPeers(ctx context.Context, who *gatehouse.Identity, entitlementIDs []string) (int, map[string]int, error) {
	holding := make(map[string]int, len(entitlementIDs))
	for _, e := range entitlementIDs {
		holding[e] = 0
	}
	if who.Department == "" {
		return 0, holding, nil
	}
	var peers int
	// identities_peers_idx (migration 0010) covers this count.
	if err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM identities
		WHERE department = $1 AND title = $2 AND status = 'active' AND id <> $3`, who.Department, who.Title, who.ID).Scan(&peers); err != nil {
		return 0, nil, fmt.Errorf("count peers: %w", err)
	}
	if peers == 0 {
		return 0, holding, nil
	}
	for _, e := range entitlementIDs {
		var n int
		// From the entitlement's active grants (few) to their holders, rather than from the
		// department (many) to their grants: CROSS JOIN makes SQLite keep that order.
		if err := r.q.QueryRowContext(ctx, `SELECT COUNT(DISTINCT g.identity_id) FROM grants g CROSS JOIN identities p
			WHERE p.id = g.identity_id AND g.entitlement_id = $1 AND g.revoked_at IS NULL
			AND p.department = $2 AND p.title = $3 AND p.status = 'active' AND p.id <> $4`,
			e, who.Department, who.Title, who.ID).Scan(&n); err != nil {
			return 0, nil, fmt.Errorf("count peers holding %s: %w", e, err)
		}
		holding[e] = n
	}
	return peers, holding, nil
}
