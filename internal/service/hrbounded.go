package service

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Bounded HR imports. An HR file is read once, as it arrives: parsed a record at a time into a
// compact jml.Feed, hashed on the way, and spooled to a temporary file only so that a held
// import can keep its content — the body is never held whole in memory, let alone copied.
// One import runs at a time, across replicas (a lease row in the database), and the leaver
// guard counts the removals of the imports of a rolling window, not one file's alone.

// DefaultHRGuardWindow is the leaver guard's default rolling window (serve --hr-guard-window).
const DefaultHRGuardWindow = 24 * time.Hour

// hrLeaseName is the lease an HR import holds while it runs (dry runs and approvals too).
const hrLeaseName = "hr-import"

// hrLeaseTTL is how long an HR import's lease lasts unless renewed; a running import renews it
// every quarter of that. An import whose process died frees it within this time.
var hrLeaseTTL = 2 * time.Minute

// HRUpload is an HR feed to import, read as it arrives.
type HRUpload struct {
	Name string    // labels problems; "" is hr.csv
	Body io.Reader // the file
	// Format is what the caller said the body is: "csv", "json", or "" to tell by its first
	// byte (a JSON feed starts with "[").
	Format string
	DryRun bool
	// Delta: the file lists only changes (docs/hr.md, "Delta files"): rows are upserts, the
	// people it does not list are left alone, and a manager may be a stored person.
	Delta bool
	// Keep bounds the plan items of the answer: the first Keep of each class (0: all). The
	// summary counts everyone whatever Keep is; the import's evidence keeps every item.
	Keep int
}

// ImportHR imports an HR feed snapshot held in memory (see ImportHRFrom).
func (s *HR) ImportHR(ctx context.Context, p *gatehouse.Principal, fileName string, content []byte, dryRun bool) (*HRImportResult, error) {
	return s.ImportHRFrom(ctx, p, HRUpload{Name: fileName, Body: bytes.NewReader(content), DryRun: dryRun})
}

// ImportHRFrom imports an HR feed snapshot (operators): the CSV of docs/hr.md, or a JSON array
// of objects with the same field names. A file with any problem is rejected whole (EINVALID
// listing every "line N: field: reason"). A dry run returns the plan and changes nothing.
// Otherwise the plan is made and applied in one transaction: identities created and updated,
// birthright grants created and revoked, every grant of a leaver revoked, each with an audit
// event referencing "hr-import:<id>", and one hr.import event with the file's SHA-256 and row
// count. An import the leaver guard stops (its removals with those of the imports of the
// window) is stored as held, with its content, and applies nothing.
//
// Only one import runs at a time, on every replica: while one runs (dry run or not), another
// gets ECONFLICT naming the running import's id. A read error of the body (one larger than
// the caller's limit, say) is returned as it is.
func (s *HR) ImportHRFrom(ctx context.Context, p *gatehouse.Principal, up HRUpload) (*HRImportResult, error) {
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	if up.Name == "" {
		up.Name = "hr.csv"
	}
	u, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("new import id: %w", err)
	}
	id := u.String()
	what := "import"
	if up.DryRun {
		what = "dry run"
	}
	if up.Delta {
		what = "delta " + what
	}
	release, err := s.takeHRLease(ctx, id, fmt.Sprintf("%s of %s by %s", what, up.Name, p.Actor()))
	if err != nil {
		return nil, err
	}
	defer release()

	// A company-wide import leaves its garbage on the heap; handing it back to the system at
	// once keeps the server's resident memory at what it holds, not at the import's high mark.
	defer debug.FreeOSMemory()
	in := &hrInput{hash: sha256.New()}
	if !up.DryRun {
		if err := in.spool(); err != nil {
			s.log.Warn("HR import: no temporary file to keep the content in; it is kept in memory", "err", err)
		}
		defer in.close()
	}
	feed, format, err := in.read(up)
	if err != nil {
		return nil, err
	}
	imp := &gatehouse.HRImport{ID: id, CreatedBy: p.Actor(), FileName: up.Name, SHA256: hex.EncodeToString(in.hash.Sum(nil)),
		RowCount: feed.Len(), Format: format, Delta: up.Delta}
	if up.DryRun {
		recent, err := s.recentHRRemovals(ctx, s.store)
		if err != nil {
			return nil, err
		}
		plan, _, err := s.planHR(ctx, s.store, feed, func(o *jml.Options) { o.Recent, o.Keep = recent, up.Keep })
		if err != nil {
			return nil, err
		}
		return &HRImportResult{DryRun: true, Plan: plan}, nil
	}
	var plan *jml.Plan
	var tune func(*jml.Options)
	err = s.change(ctx, func(tx store.Tx, fx *effects) error {
		recent, err := s.recentHRRemovals(ctx, tx)
		if err != nil {
			return err
		}
		tune = func(o *jml.Options) { o.Recent, o.Keep = recent, up.Keep }
		plan, err = s.applyImport(ctx, tx, fx, p, imp, feed, tune, nil)
		return err
	})
	if held := (*heldHR)(nil); errors.As(err, &held) {
		plan, err = s.holdImport(ctx, p, imp, feed, tune, held.reason, in)
	}
	if err != nil {
		return nil, err
	}
	// The content went to the database with a held import; the answer does not carry it.
	imp.Content = ""
	return &HRImportResult{Import: imp, Plan: plan}, nil
}

// takeHRLease takes the HR import lease for id, renewing it while the import runs; release
// drops it. While another import holds it, the answer is ECONFLICT naming that import.
func (s *HR) takeHRLease(ctx context.Context, id, note string) (release func(), err error) {
	now := s.now()
	cur, ok, err := s.store.AcquireLease(ctx, store.Lease{Name: hrLeaseName, Holder: id, Note: note, ExpiresAt: now.Add(hrLeaseTTL)}, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "another HR import is running: %s (%s, since %s); one import runs at a time, try again when it is done",
			cur.Holder, cur.Note, cur.AcquiredAt.UTC().Format(time.RFC3339))
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(hrLeaseTTL / 4)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				now := s.now()
				bg := context.WithoutCancel(ctx)
				if _, ok, err := s.store.AcquireLease(bg, store.Lease{Name: hrLeaseName, Holder: id, Note: note, ExpiresAt: now.Add(hrLeaseTTL)}, now); err != nil || !ok {
					s.log.Warn("HR import: lease not renewed", "import", id, "held", ok, "err", err)
				}
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		if err := s.store.ReleaseLease(context.WithoutCancel(ctx), hrLeaseName, id); err != nil {
			s.log.Warn("HR import: lease not released; it runs out by itself", "import", id, "err", err)
		}
	}, nil
}

// recentHRRemovals is what the leaver guard adds from earlier changes: the removals of the HR
// imports applied within the rolling window (recentImportRemovals) and of the date checks
// (hrguardwindow.go).
func (s *HR) recentHRRemovals(ctx context.Context, r store.Reader) (jml.Recent, error) {
	recent, err := s.recentImportRemovals(ctx, r)
	if err != nil {
		return recent, err
	}
	n, err := recentDateRemovals(ctx, r, s.now().Add(-recent.Window))
	recent.Removals += n
	return recent, err
}

// recentImportRemovals is the removals of the HR imports applied within the rolling window. An
// import an admin approved is not counted: the approval was the decision the guard asks for.
func (s *HR) recentImportRemovals(ctx context.Context, r store.Reader) (jml.Recent, error) {
	window := s.hr.GuardWindow
	if window <= 0 {
		window = DefaultHRGuardWindow
	}
	recent := jml.Recent{Window: window}
	since := s.now().Add(-window)
	f := gatehouse.HRImportFilter{Status: gatehouse.ImportApplied, Limit: gatehouse.MaxLimit}
	for {
		page, err := r.ListHRImports(ctx, f)
		if err != nil {
			return recent, err
		}
		for _, imp := range page.Items {
			if imp.CreatedAt.Before(since) {
				return recent, nil // newest first: the rest are older
			}
			if imp.DecidedBy != "" || imp.Format == SCIMImportFormat || len(imp.Summary) == 0 {
				continue
			}
			var sum struct {
				Removals int `json:"removals"`
			}
			if err := json.Unmarshal(imp.Summary, &sum); err == nil {
				recent.Removals += sum.Removals
			}
		}
		if page.NextCursor == "" {
			return recent, nil
		}
		f.Cursor = page.NextCursor
	}
}

// hrInput reads an upload once: into the parser, the SHA-256, and (for an import that may be
// held) a temporary file.
type hrInput struct {
	hash  hash.Hash
	file  *os.File     // the spooled content
	mem   bytes.Buffer // the content when no temporary file could be made
	inMem bool
	rerr  error // the body's read error, if any
	size  int64
}

func (in *hrInput) spool() error {
	f, err := os.CreateTemp("", "gatehouse-hr-*")
	if err != nil {
		in.inMem = true
		return err
	}
	in.file = f
	return nil
}

func (in *hrInput) close() {
	if in.file != nil {
		name := in.file.Name()
		_ = in.file.Close()
		_ = os.Remove(name)
	}
}

// Read passes the body on, hashing and spooling it, and remembers a read error.
func (in *hrInput) wrap(r io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		n, err := r.Read(p)
		if n > 0 {
			in.size += int64(n)
			in.hash.Write(p[:n])
			switch {
			case in.file != nil:
				if _, werr := in.file.Write(p[:n]); werr != nil {
					in.rerr = fmt.Errorf("spool HR file: %w", werr)
					return n, in.rerr
				}
			case in.inMem:
				in.mem.Write(p[:n])
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			in.rerr = err
		}
		return n, err
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// read parses the upload: JSON when it starts with "[", CSV otherwise.
func (in *hrInput) read(up HRUpload) (*jml.Feed, string, error) {
	br := bufio.NewReaderSize(in.wrap(up.Body), 64<<10)
	first := firstByte(br)
	format := "csv"
	if first == '[' {
		format = "json"
	}
	switch {
	case up.Format == "json" && format != "json":
		return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "body: a JSON HR feed is an array of objects")
	case up.Format == "csv" && format != "csv":
		// A body starting with "[" is read as JSON; a CSV never starts so.
		return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "body: a CSV HR feed starts with its header row, not \"[\"")
	}
	var feed *jml.Feed
	var err error
	opts := jml.ReadOptions{Delta: up.Delta}
	if format == "json" {
		feed, err = jml.ReadHRJSONWith(up.Name, br, opts)
	} else {
		feed, err = jml.ReadHRWith(up.Name, br, opts)
	}
	if in.rerr != nil {
		// The body could not be read (too large, or the client went away): that is the
		// answer, not what the parser made of the part it saw.
		return nil, "", fmt.Errorf("read HR file %s: %w", up.Name, in.rerr)
	}
	if err != nil {
		return nil, "", err
	}
	// The parser may stop at the closing "]" of a JSON array: the rest still counts in the
	// SHA-256 and the held content.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, "", fmt.Errorf("read HR file %s: %w", up.Name, err)
	}
	return feed, format, nil
}

// firstByte is the body's first byte that is not a BOM or white space (0 for none), without
// consuming anything.
func firstByte(br *bufio.Reader) byte {
	for n := 4; ; n *= 2 {
		b, err := br.Peek(min(n, br.Size()))
		if t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n"); len(t) > 0 {
			return t[0]
		}
		if err != nil || n >= br.Size() {
			return 0
		}
	}
}

// content is the spooled upload as one string, for a held import's record: read once from the
// temporary file into the string the database is given, without a second copy.
func (in *hrInput) content() (string, error) {
	if in.file == nil {
		return in.mem.String(), nil
	}
	if _, err := in.file.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("read spooled HR file: %w", err)
	}
	var b strings.Builder
	b.Grow(int(in.size))
	if _, err := io.Copy(&b, in.file); err != nil {
		return "", fmt.Errorf("read spooled HR file: %w", err)
	}
	return b.String(), nil
}
