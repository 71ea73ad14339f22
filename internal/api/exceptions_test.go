package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

var madeExceptions sync.Map // confirmationKey → EXC-number

func exceptionBody(*fixture, string) string {
	return `{"for":"other@example.com","rule":"eng-vs-admins","rationale":"on-call cover","controls":"weekly log review","expires":"30d","review":"7d"}`
}

// exception returns the number of a pending exception for "other", recorded by the system for
// purpose.
func (f *fixture) exception(purpose string) string {
	f.t.Helper()
	key := confirmationKey{f, "exception:" + purpose}
	if ref, ok := madeExceptions.Load(key); ok {
		return ref.(string)
	}
	e, err := f.svc.CreateException(context.Background(), f.sys, service.NewException{For: "other@example.com", Rule: "eng-vs-admins",
		Rationale: "walk " + purpose, Controls: "weekly log review", Expires: gatehouse.Duration(30 * 24 * time.Hour)})
	if err != nil {
		f.t.Fatal(err)
	}
	madeExceptions.Store(key, e.Ref)
	return e.Ref
}

// TestExceptionsAPI: validation answers 400, a decided exception 409, and the list's expiring
// window.
func TestExceptionsAPI(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			testExceptionsAPI(t, newFixture(t, eng.open(t)))
		})
	}
}

func testExceptionsAPI(t *testing.T, f *fixture) {
	must(t, f.as(t, "operator", "POST", "/api/v1/exceptions", `{"for":"other@example.com","rule":"eng-vs-admins","expires":"30d"}`), http.StatusBadRequest)
	must(t, f.as(t, "operator", "GET", "/api/v1/exceptions?expiring=soon", ""), http.StatusBadRequest)
	ref := f.exception("api")
	must(t, f.as(t, "admin", "POST", "/api/v1/exceptions/"+ref+"/approve", `{"comment":"ok"}`), http.StatusOK)
	must(t, f.as(t, "admin", "POST", "/api/v1/exceptions/"+ref+"/reject", `{"comment":"no"}`), http.StatusConflict)
	body := string(must(t, f.as(t, "auditor", "GET", "/api/v1/exceptions?expiring=31d&status=approved", ""), http.StatusOK).body)
	if !strings.Contains(body, ref) {
		t.Fatalf("expiring list lacks %s: %s", ref, body)
	}
	body = string(must(t, f.as(t, "auditor", "GET", "/api/v1/exceptions?expiring=29d", ""), http.StatusOK).body)
	if strings.Contains(body, ref) {
		t.Fatalf("29d list has %s", ref)
	}
}
