package web

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// systemTest runs a connection test of a system and shows its page with the result (operators;
// the service decides). The test changes nothing, so the page is rendered in answer to the post
// rather than redirected to: the result lives only in this answer.
func (h *handler) systemTest(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	res, err := h.svc.TestSystem(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return deny(err, "Only an operator or admin may test a system's connection: the test uses the system's credentials.")
	}
	return h.systemPage(w, r, p, res)
}
