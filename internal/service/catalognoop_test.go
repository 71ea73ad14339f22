package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
)

// TestCatalogNoChangeReconcilesNothing: applying the catalog that is already stored changes
// nothing (catalog.Apply writes no event), so it implies no reconcile, as before the effects
// were stated (the old trigger read catalog.apply events, and an empty plan has none). A
// GitOps pipeline that applies the catalog on every push must not start a full reconcile of
// every system for everybody each time.
func TestCatalogNoChangeReconcilesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, st, now := hrFixture(t)
	q := &recordingQueue{}
	svc := service.New(st, service.Options{Now: func() time.Time { return *now }, Jobs: q})
	res, err := svc.ApplyCatalog(ctx, service.SystemPrincipal("test"), []catalog.File{{Name: "c.yaml", Content: []byte(hrCatalog)}}, false, "again")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Result.NoChange {
		t.Fatalf("the same catalog again: %+v, want no change", res.Result.Summary)
	}
	if q.all != 0 || len(q.causes) != 0 {
		t.Errorf("an apply that changed nothing asked for reconciles: %+v", q)
	}
}
