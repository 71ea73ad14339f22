package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/urlquery"
)

// ImportHR calls POST /api/v1/hr/imports with an HR feed CSV, as q says. name labels problems
// (its base name is sent). A file with problems is an *Error with one Problem per problem
// (file, line, field, reason). The answer's plan carries the page of items q asks for (the
// server's default: 100 per class); Plan.Page.NextOffset is the next page's Offset (a dry run
// is asked again with the same file).
func (c *Client) ImportHR(ctx context.Context, name string, csv []byte, q gatehouse.HRImportQuery) (*service.HRImportResult, error) {
	var out service.HRImportResult
	body := rawBody{contentType: "text/csv", data: csv, header: map[string]string{"X-HR-File": filepath.Base(name)}}
	return &out, c.do(ctx, http.MethodPost, "/api/v1/hr/imports", urlquery.Encode(q), body, &out)
}

// ListHRImports calls GET /api/v1/hr/imports.
func (c *Client) ListHRImports(ctx context.Context, f gatehouse.HRImportFilter) (*gatehouse.Page[*gatehouse.HRImport], error) {
	return list[gatehouse.Page[*gatehouse.HRImport]](ctx, c, "/api/v1/hr/imports", f)
}

// GetHRImport calls GET /api/v1/hr/imports/{id}.
func (c *Client) GetHRImport(ctx context.Context, id string) (*gatehouse.HRImport, error) {
	var out gatehouse.HRImport
	return &out, c.do(ctx, http.MethodGet, "/api/v1/hr/imports/"+seg(id), nil, nil, &out)
}

// ApproveHRImport calls POST /api/v1/hr/imports/{id}/approve (admins).
func (c *Client) ApproveHRImport(ctx context.Context, id, reason string) (*service.HRImportResult, error) {
	var out service.HRImportResult
	return &out, c.do(ctx, http.MethodPost, "/api/v1/hr/imports/"+seg(id)+"/approve", nil, map[string]string{"reason": reason}, &out)
}

// RejectHRImport calls POST /api/v1/hr/imports/{id}/reject (admins).
func (c *Client) RejectHRImport(ctx context.Context, id, reason string) (*gatehouse.HRImport, error) {
	var out gatehouse.HRImport
	return &out, c.do(ctx, http.MethodPost, "/api/v1/hr/imports/"+seg(id)+"/reject", nil, map[string]string{"reason": reason}, &out)
}

// ApplyHRDates calls POST /api/v1/hr/dates (operators).
func (c *Client) ApplyHRDates(ctx context.Context) (*jml.Plan, error) {
	var out jml.Plan
	return &out, c.do(ctx, http.MethodPost, "/api/v1/hr/dates", nil, nil, &out)
}

// HRExport is what an export sent: its people (as the server counted them) and bytes.
type HRExport struct {
	People int
	Bytes  int64
}

// ExportHR calls GET /api/v1/hr/export and copies the CSV to w as it arrives (readers). An
// answer cut short is an error: what was copied is then incomplete.
func (c *Client) ExportHR(ctx context.Context, w io.Writer) (HRExport, error) {
	var out HRExport
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+"/api/v1/hr/export", nil)
	if err != nil {
		return out, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Accept", "text/csv, application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		return out, &UnreachableError{Addr: c.base.String(), Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return out, decodeError(resp, data)
	}
	out.People, _ = strconv.Atoi(resp.Header.Get("X-Gatehouse-People"))
	n, err := io.Copy(w, resp.Body)
	out.Bytes = n
	if err != nil {
		return out, fmt.Errorf("HR export cut short after %d bytes: %w", n, err)
	}
	return out, nil
}
