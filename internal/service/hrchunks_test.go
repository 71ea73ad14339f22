package service_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/bench/hrgen"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/service"
)

// TestImportInChunks: an import of more people than one chunk (128 here) is applied whole, with
// every person in its evidence, while its answer carries only the page asked for; people
// missing from the next file are found across chunks; and an import the leaver guard holds after
// its chunks were written leaves nothing of them behind.
func TestImportInChunks(t *testing.T) {
	_, st, now := hrFixture(t)
	svc := service.New(st, service.Options{Now: func() time.Time { return *now }, HR: service.HROptions{Chunk: 128}})
	ctx := context.Background()
	op := service.SystemPrincipal("test")
	const n = 1_000
	var feed bytes.Buffer
	if err := hrgen.Write(&feed, n, hrgen.Options{Seed: 7}); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(feed.String(), "\n")
	lines = lines[:len(lines)-1] // the empty string after the last newline
	upload := func(name string, rows []string, dry bool) *service.HRImportResult {
		t.Helper()
		res, err := svc.ImportHRFrom(ctx, op, service.HRUpload{Name: name, Body: strings.NewReader(strings.Join(rows, "")), DryRun: dry, Keep: 3})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	active := func() int {
		t.Helper()
		c, err := st.CountIdentities(ctx, gatehouse.IdentityFilter{Status: gatehouse.StatusActive, Kind: gatehouse.KindPerson})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	res := upload("day1.csv", lines, false)
	sum := res.Plan.Summary
	if sum.Rows != n || sum.Joiners+sum.PreHires+sum.NewTerminated != n || res.Import.Status != gatehouse.ImportApplied {
		t.Fatalf("day 1: %+v (%s)", sum, res.Import.Status)
	}
	perClass := map[jml.Class]int{}
	for _, it := range res.Plan.Items {
		perClass[it.Class]++
		if it.Class == jml.Joiner && (it.IdentityID == "" || len(it.Gain) == 0 || it.Gain[0].GrantID == "") {
			t.Errorf("an answered joiner lacks the ids written: %+v", it)
		}
	}
	for c, k := range perClass {
		if k > 3 {
			t.Errorf("%d %s items in the answer, want at most 3", k, c)
		}
	}
	evidence := 0
	f := gatehouse.HRImportChangeFilter{ImportID: res.Import.ID, Limit: gatehouse.MaxLimit}
	for {
		page, err := svc.ListHRImportChanges(ctx, op, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Items {
			evidence++
			if c.Seq != evidence {
				t.Fatalf("evidence row %d has seq %d", evidence, c.Seq)
			}
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	if evidence != n {
		t.Errorf("%d evidence rows, want %d", evidence, n)
	}
	before := active()

	// Three people without reports leave by being missing, on both sides of a chunk's edge.
	gone := map[int]bool{255: true, 256: true, n - 1: true} // person i is on line i+1
	var day2 []string
	var goneIDs []string
	for i, l := range lines {
		if gone[i-1] {
			goneIDs = append(goneIDs, strings.Split(l, ",")[0])
			continue
		}
		day2 = append(day2, l)
	}
	res = upload("day2.csv", day2, false)
	if res.Plan.Summary.Leavers != 3 || res.Plan.Summary.Unchanged != n-3 {
		t.Fatalf("day 2: %+v", res.Plan.Summary)
	}
	for _, e := range goneIDs {
		id, err := st.GetIdentity(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if id.Status != gatehouse.StatusTerminated || heldBy(t, st, e) != "" {
			t.Errorf("%s: %s, holding %q; want terminated holding nothing", e, id.Status, heldBy(t, st, e))
		}
	}
	if got := active(); got != before-3 {
		t.Errorf("%d active after day 2, want %d", got, before-3)
	}

	// Half the company missing: the guard holds it, after every chunk was planned and written
	// in the transaction, which is rolled back.
	res = upload("half.csv", lines[:n/2+1], false)
	if res.Import.Status != gatehouse.ImportHeld || !res.Plan.Held || !strings.Contains(res.Plan.HeldReason, "leaver guard") {
		t.Fatalf("half the company: %s, %+v", res.Import.Status, res.Plan)
	}
	for _, it := range res.Plan.Items {
		if it.Class == jml.Leaver && it.Identity != nil && it.Identity.Status != gatehouse.StatusTerminated {
			t.Errorf("held plan item %+v", it)
		}
	}
	if got := active(); got != before-3 {
		t.Errorf("%d active after a held import, want %d: a held import changed people", got, before-3)
	}
	held, err := svc.GetHRImport(ctx, op, res.Import.ID)
	if err != nil || held.Status != gatehouse.ImportHeld {
		t.Fatalf("stored held import: %+v %v", held, err)
	}
}
