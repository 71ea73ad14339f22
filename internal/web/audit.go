package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

type auditView struct {
	Actor, Action, ObjectType, ObjectID, Since string
	Filtered                                   bool
	Verification                               *service.Verification
	Events                                     []eventRow
	NextURL, FirstURL                          string
}

type eventRow struct {
	Ev            *gatehouse.AuditEvent
	ObjectURL     string   // "" when the object has no page
	Before, After string   // indented JSON, "" when absent
	Changed       []string // top-level fields whose value differs, when both sides are objects
}

const forbiddenAudit = "You need the auditor role (or operator or admin) to see the audit log."

// audit lists audit events newest first, under a banner that re-verifies the whole hash chain,
// so that whoever reads the evidence also sees whether it can be trusted.
func (h *handler) audit(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	ctx := r.Context()
	q := r.URL.Query()
	v := auditView{
		Actor:      strings.TrimSpace(q.Get("actor")),
		Action:     strings.TrimSpace(q.Get("action")),
		ObjectType: strings.TrimSpace(q.Get("object_type")),
		ObjectID:   strings.TrimSpace(q.Get("object_id")),
		Since:      strings.TrimSpace(q.Get("since")),
	}
	f := gatehouse.AuditFilter{Actor: v.Actor, Action: v.Action, ObjectType: v.ObjectType, ObjectID: v.ObjectID, Limit: pageSize, Cursor: q.Get("cursor")}
	if v.Since != "" {
		t, err := parseSince(v.Since)
		if err != nil {
			return err
		}
		f.Since = t
	}
	v.Filtered = v.Actor != "" || v.Action != "" || v.ObjectType != "" || v.ObjectID != "" || v.Since != ""
	page, err := h.svc.ListAuditEvents(ctx, p, f)
	if err != nil {
		return deny(err, forbiddenAudit)
	}
	if v.Verification, err = h.svc.VerifyAudit(ctx, p); err != nil {
		return deny(err, forbiddenAudit)
	}
	v.Events = eventRows(page.Items)
	if page.NextCursor != "" {
		v.NextURL = pageURL("/audit", q, page.NextCursor)
	}
	if f.Cursor != "" {
		v.FirstURL = pageURL("/audit", q, "")
	}
	h.render(w, r, p, http.StatusOK, "audit", &view{Title: "Audit log", Section: "audit", Data: v})
	return nil
}

// parseSince reads the date picker's YYYY-MM-DD (midnight UTC) or a full RFC 3339 time.
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(gatehouse.DateLayout, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, gatehouse.Errorf(gatehouse.EINVALID, "since: %q is not a date (YYYY-MM-DD) or an RFC 3339 time", s)
}

func eventRows(evs []*gatehouse.AuditEvent) []eventRow {
	rows := make([]eventRow, 0, len(evs))
	for _, ev := range evs {
		link := objectURL(ev.ObjectType, ev.ObjectID)
		if ev.ObjectType == "grant" {
			link = grantHolderURL(ev)
		}
		rows = append(rows, eventRow{
			Ev: ev, ObjectURL: link,
			Before: indentJSON(ev.Before), After: indentJSON(ev.After), Changed: changedFields(ev.Before, ev.After),
		})
	}
	return rows
}

// objectURL links an audit event to the page of what it changed, when there is one.
func objectURL(typ, id string) string {
	if id == "" {
		return ""
	}
	switch typ {
	case "identity":
		return "/identities/" + url.PathEscape(id)
	case "system":
		return "/catalog/systems/" + url.PathEscape(id)
	case "entitlement":
		// Entitlement ids contain one slash, which is part of the route ({id...}).
		sys, slug, _ := strings.Cut(id, "/")
		return "/catalog/entitlements/" + url.PathEscape(sys) + "/" + url.PathEscape(slug)
	case "role":
		return "/catalog/roles/" + url.PathEscape(id)
	case "sod", "sod_rule":
		return "/catalog/sod"
	}
	return ""
}

// grantHolderURL links a grant's event to the access table of the identity holding it: grants
// have no page of their own, and "whose access changed" is the question a reader has.
func grantHolderURL(ev *gatehouse.AuditEvent) string {
	var g struct {
		IdentityID string `json:"identity_id"`
	}
	for _, raw := range []json.RawMessage{ev.After, ev.Before} {
		if len(raw) > 0 && json.Unmarshal(raw, &g) == nil && g.IdentityID != "" {
			return "/identities/" + url.PathEscape(g.IdentityID) + "#grants"
		}
	}
	return ""
}

func indentJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

// changedFields names the top-level fields an update changed, so a reader of a long record sees
// at once what the event did. Nil unless both sides are JSON objects.
func changedFields(before, after json.RawMessage) []string {
	if len(before) == 0 || len(after) == 0 {
		return nil
	}
	var b, a map[string]json.RawMessage
	if json.Unmarshal(before, &b) != nil || json.Unmarshal(after, &a) != nil {
		return nil
	}
	var out []string
	for k, v := range a {
		if old, ok := b[k]; !ok || !bytes.Equal(compactJSON(old), compactJSON(v)) {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func compactJSON(raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}
