package web

// The request portal: people find requestable access in the catalog, see who will approve it
// and what policy says before submitting, follow their requests, and approvers decide from an
// inbox that shows the policy context next to the buttons. Every decision is the service's:
// the pages only hide buttons that would be refused, and show the refusal when a crafted form
// is posted anyway.

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

var priorities = []gatehouse.Priority{gatehouse.PriorityLow, gatehouse.PriorityNormal, gatehouse.PriorityHigh, gatehouse.PriorityCritical}

// requestForm is the request form as posted, echoed back on a preview or an error.
type requestForm struct {
	For, Entitlement, Justification, Duration, Priority string
}

type newRequestView struct {
	Query        string
	Searched     bool
	Items        []*gatehouse.Entitlement
	More         bool
	SystemNames  map[string]string
	Selected     *gatehouse.Entitlement
	Form         requestForm
	CanForOthers bool // operators ask on someone's behalf
	Priorities   []gatehouse.Priority
	Preview      *service.RequestPreview
	Error        string // the service's refusal
	ErrorField   string // the form field it is about, when it names one
}

// requestNew is the catalog search and, once an entitlement is chosen, the request form.
func (h *handler) requestNew(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	q := r.URL.Query()
	v := &newRequestView{Query: strings.TrimSpace(q.Get("q")), Form: requestForm{Entitlement: q.Get("entitlement"), Priority: string(gatehouse.PriorityNormal)}}
	return h.renderNewRequest(w, r, p, v, http.StatusOK)
}

func (h *handler) renderNewRequest(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal, v *newRequestView, status int) error {
	ctx := r.Context()
	v.CanForOthers, v.Priorities = p.Has(gatehouse.RoleOperator), priorities
	_, names, err := h.systemNames(r, p)
	if err != nil {
		return err
	}
	v.SystemNames = names
	if v.Form.Entitlement != "" {
		e, err := h.svc.GetEntitlement(ctx, p, v.Form.Entitlement)
		if err != nil {
			return err
		}
		if !e.Requestable {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s is not requestable: it is granted by birthright rules or by operators only", e.ID)
		}
		v.Selected = e
	} else {
		// The catalog is small enough to search in memory, which lets one box match the
		// system's name as well as the entitlement's name, description and id.
		yes := true
		page, err := h.svc.ListEntitlements(ctx, p, gatehouse.EntitlementFilter{Requestable: &yes, Limit: gatehouse.MaxLimit})
		if err != nil {
			return err
		}
		v.More = page.NextCursor != ""
		v.Searched = v.Query != ""
		needle := strings.ToLower(v.Query)
		for _, e := range page.Items {
			hay := strings.ToLower(strings.Join([]string{e.ID, e.Name, e.Description, e.System, names[e.System]}, "\n"))
			if e.Requestable && (needle == "" || strings.Contains(hay, needle)) {
				v.Items = append(v.Items, e)
			}
		}
	}
	title := "Request access"
	if v.Selected != nil {
		title = "Request " + v.Selected.Name
	}
	h.render(w, r, p, status, "requestnew", &view{Title: title, Section: "requests", Data: v})
	return nil
}

// requestSubmit previews (op=preview) or creates the request. A refusal is shown on the form,
// next to the field it is about, with what was typed kept.
func (h *handler) requestSubmit(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	v := &newRequestView{Form: requestForm{
		For:           strings.TrimSpace(r.PostFormValue("for")),
		Entitlement:   strings.TrimSpace(r.PostFormValue("entitlement")),
		Justification: strings.TrimSpace(r.PostFormValue("justification")),
		Duration:      strings.TrimSpace(r.PostFormValue("duration")),
		Priority:      r.PostFormValue("priority"),
	}}
	if v.Form.Entitlement == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "choose an entitlement to request")
	}
	in := service.NewRequest{For: v.Form.For, Entitlement: v.Form.Entitlement, Justification: v.Form.Justification,
		Priority: gatehouse.Priority(v.Form.Priority)}
	if v.Form.Duration != "" {
		d, err := gatehouse.ParseDuration(v.Form.Duration)
		if err != nil || d <= 0 {
			v.Error, v.ErrorField = "Duration: write it as 8h, 30m or 7d.", "duration"
			return h.renderNewRequest(w, r, p, v, http.StatusBadRequest)
		}
		in.Duration = d
	}
	ctx := r.Context()
	if r.PostFormValue("op") == "preview" {
		pv, err := h.svc.PreviewRequest(ctx, p, in)
		if err != nil {
			return h.formError(w, r, p, v, err)
		}
		v.Preview = pv
		return h.renderNewRequest(w, r, p, v, http.StatusOK)
	}
	req, err := h.svc.CreateRequest(ctx, p, in)
	if err != nil {
		return h.formError(w, r, p, v, err)
	}
	http.Redirect(w, r, "/requests/"+url.PathEscape(req.Ref)+"?done=submitted", http.StatusSeeOther)
	return nil
}

// formFields are the form's fields a service error may start with ("duration: ...").
var formFields = []string{"for", "entitlement", "justification", "duration", "priority"}

// formError shows a refusal on the form; an internal error is still a failure page.
func (h *handler) formError(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal, v *newRequestView, err error) error {
	status := statusFor(err)
	if status >= 500 || status == http.StatusUnauthorized {
		return err
	}
	v.Error = sentence(gatehouse.ErrorMessage(err))
	for _, f := range formFields {
		// Shown under its field, the message keeps its case: it may start with an id.
		if rest, ok := strings.CutPrefix(gatehouse.ErrorMessage(err), f+": "); ok {
			v.ErrorField, v.Error = f, rest
			break
		}
	}
	return h.renderNewRequest(w, r, p, v, status)
}

// requestsView is a list of requests: mine, my approvals inbox, or the operators' queue.
type requestsView struct {
	Items             []*gatehouse.AccessRequest
	Now               time.Time
	Done, DoneRef     string // after a decision from the inbox
	More              bool
	NextURL, FirstURL string
	OverdueCount      int
}

// Overdue is for the template: a request still waiting for a decision past its SLA.
func (v requestsView) Overdue(r *gatehouse.AccessRequest) bool { return requestOverdue(r, v.Now) }

func requestOverdue(r *gatehouse.AccessRequest, now time.Time) bool {
	return (r.State == gatehouse.RequestSubmitted || r.State == gatehouse.RequestPendingApproval) && now.After(r.DueAt)
}

// Approvers is for the template: who the current step asks, or "".
func (v requestsView) Approvers(r *gatehouse.AccessRequest) string { return currentApprovers(r) }

func currentApprovers(r *gatehouse.AccessRequest) string {
	if r.State != gatehouse.RequestPendingApproval {
		return ""
	}
	if i := r.CurrentStep(); i >= 0 {
		return string(r.Steps[i].Kind) + ": " + strings.Join(r.Steps[i].Emails, ", ")
	}
	return ""
}

// CurrentStep is for the template: the step waiting for a decision, or nil.
func (v requestsView) CurrentStep(r *gatehouse.AccessRequest) *gatehouse.ApprovalStep {
	if i := r.CurrentStep(); i >= 0 && r.State == gatehouse.RequestPendingApproval {
		return &r.Steps[i]
	}
	return nil
}

// myRequests lists the requests the caller made or is the beneficiary of, newest first.
func (h *handler) myRequests(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	q := r.URL.Query()
	page, err := h.svc.ListRequests(r.Context(), p, service.ViewMine, gatehouse.RequestFilter{Limit: pageSize, Cursor: q.Get("cursor")})
	if err != nil {
		return err
	}
	v := requestsView{Items: page.Items, Now: h.svc.Now()}
	if page.NextCursor != "" {
		v.NextURL = pageURL("/requests", q, page.NextCursor)
	}
	if q.Get("cursor") != "" {
		v.FirstURL = pageURL("/requests", q, "")
	}
	h.render(w, r, p, http.StatusOK, "requests", &view{Title: "My requests", Section: "requests", Data: v})
	return nil
}

// approvals is the inbox: requests waiting for the caller's decision, oldest due first, each
// with its policy findings and the decision buttons.
func (h *handler) approvals(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	q := r.URL.Query()
	page, err := h.svc.ListRequests(r.Context(), p, service.ViewPendingMe, gatehouse.RequestFilter{Limit: gatehouse.MaxLimit})
	if err != nil {
		return err
	}
	v := requestsView{Items: page.Items, Now: h.svc.Now(), More: page.NextCursor != ""}
	sortByDue(v.Items)
	for _, it := range v.Items {
		if v.Overdue(it) {
			v.OverdueCount++
		}
	}
	if ref := q.Get("ref"); requestRef.MatchString(ref) {
		if d := q.Get("done"); slices.Contains([]string{"approved", "denied", "returned"}, d) {
			v.Done, v.DoneRef = d, ref
		}
	}
	h.render(w, r, p, http.StatusOK, "approvals", &view{Title: "Approvals", Section: "approvals", Data: v})
	return nil
}

// queue is the operators' view: every request still being worked on, by SLA due time, so the
// overdue ones come first.
func (h *handler) requestQueue(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	page, err := h.svc.ListRequests(r.Context(), p, service.ViewAll, gatehouse.RequestFilter{Limit: gatehouse.MaxLimit,
		States: []gatehouse.RequestState{gatehouse.RequestSubmitted, gatehouse.RequestPendingApproval, gatehouse.RequestReturned,
			gatehouse.RequestApproved, gatehouse.RequestProvisioning, gatehouse.RequestFailed}})
	if err != nil {
		return deny(err, "You need the auditor, operator or admin role to see the request queue.")
	}
	v := requestsView{Items: page.Items, Now: h.svc.Now(), More: page.NextCursor != ""}
	sortByDue(v.Items)
	for _, it := range v.Items {
		if v.Overdue(it) {
			v.OverdueCount++
		}
	}
	h.render(w, r, p, http.StatusOK, "requestqueue", &view{Title: "Request queue", Section: "requests", Data: v})
	return nil
}

var requestRef = regexp.MustCompile(`^REQ-[0-9]{6,}$`)

func sortByDue(items []*gatehouse.AccessRequest) {
	slices.SortStableFunc(items, func(a, b *gatehouse.AccessRequest) int { return a.DueAt.Compare(b.DueAt) })
}

type requestView struct {
	R           *gatehouse.AccessRequest
	Now         time.Time
	Current     int  // the undecided step, -1 when none
	CanDecide   bool // the caller is an approver of the current step (the service decides)
	CanCancel   bool
	CanResubmit bool
	Done        string
	Error       string
}

// Overdue is for the template.
func (v requestView) Overdue() bool { return requestOverdue(v.R, v.Now) }

// request is one request: its steps and decisions, findings, timeline and grants, with the
// buttons the caller may use.
func (h *handler) request(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	done := r.URL.Query().Get("done")
	if !slices.Contains([]string{"submitted", "approved", "denied", "returned", "cancelled", "resubmitted"}, done) {
		done = ""
	}
	return h.requestPage(w, r, p, http.StatusOK, done, "")
}

func (h *handler) requestPage(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal, status int, done, errMsg string) error {
	req, err := h.svc.GetRequest(r.Context(), p, r.PathValue("ref"))
	if err != nil {
		return err
	}
	v := requestView{R: req, Now: h.svc.Now(), Current: -1, Done: done, Error: errMsg}
	mine := p.IdentityID != "" && (p.IdentityID == req.RequesterID || p.IdentityID == req.BeneficiaryID)
	if req.State == gatehouse.RequestPendingApproval {
		v.Current = req.CurrentStep()
		if v.Current >= 0 && !mine && p.IdentityID != "" {
			v.CanDecide = slices.Contains(req.Steps[v.Current].Approvers, p.IdentityID)
			if !v.CanDecide {
				// A delegate sees the request in their inbox; the buttons follow.
				inbox, err := h.svc.ListRequests(r.Context(), p, service.ViewPendingMe, gatehouse.RequestFilter{Limit: gatehouse.MaxLimit})
				if err != nil {
					return err
				}
				v.CanDecide = slices.ContainsFunc(inbox.Items, func(x *gatehouse.AccessRequest) bool { return x.ID == req.ID })
			}
		}
	}
	v.CanCancel = mine && req.State.Open()
	v.CanResubmit = p.IdentityID == req.RequesterID && req.State == gatehouse.RequestReturned
	h.render(w, r, p, status, "request", &view{Title: req.Ref, Section: "requests", Data: v})
	return nil
}

// requestAction handles approve, deny, return, cancel and resubmit. A refusal the caller can
// act on (a missing comment, someone else's step, their own request) is shown on the request's
// page; back (the inbox) is where a decision returns to.
func (h *handler) requestAction(kind string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		ctx, ref := r.Context(), r.PathValue("ref")
		comment := r.PostFormValue("comment")
		var (
			req  *gatehouse.AccessRequest
			err  error
			done string
		)
		switch kind {
		case "approve":
			done = "approved"
			req, err = h.svc.ApproveRequest(ctx, p, ref, comment)
		case "deny":
			done = "denied"
			req, err = h.svc.DenyRequest(ctx, p, ref, comment)
		case "return":
			done = "returned"
			req, err = h.svc.ReturnRequest(ctx, p, ref, comment)
		case "cancel":
			done = "cancelled"
			req, err = h.svc.CancelRequest(ctx, p, ref, comment)
		case "resubmit":
			done = "resubmitted"
			req, err = h.svc.ResubmitRequest(ctx, p, ref, r.PostFormValue("justification"))
		}
		if err != nil {
			status := statusFor(err)
			if status >= 500 || status == http.StatusUnauthorized || status == http.StatusNotFound {
				return err
			}
			// Show the refusal on the request, if the caller may see it at all.
			if _, gerr := h.svc.GetRequest(ctx, p, ref); gerr != nil {
				return err
			}
			return h.requestPage(w, r, p, status, "", sentence(gatehouse.ErrorMessage(err)))
		}
		if back := r.PostFormValue("back"); back == "/approvals" {
			http.Redirect(w, r, "/approvals?done="+done+"&ref="+url.QueryEscape(req.Ref), http.StatusSeeOther)
			return nil
		}
		http.Redirect(w, r, "/requests/"+url.PathEscape(req.Ref)+"?done="+done, http.StatusSeeOther)
		return nil
	}
}
