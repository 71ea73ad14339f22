package client

// Provisioning: reconcile, its jobs, operations and drift.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Reconcile calls POST /api/v1/reconcile: a reconcile of system, or of every system ("").
func (c *Client) Reconcile(ctx context.Context, system string) (*service.ReconcileStatus, error) {
	var out service.ReconcileStatus
	return &out, c.do(ctx, http.MethodPost, "/api/v1/reconcile", nil, map[string]string{"system": system}, &out)
}

// ReconcileJobs calls GET /api/v1/reconcile/jobs.
func (c *Client) ReconcileJobs(ctx context.Context, ids []int64) (*service.ReconcileStatus, error) {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	var out service.ReconcileStatus
	return &out, c.do(ctx, http.MethodGet, "/api/v1/reconcile/jobs", url.Values{"ids": {strings.Join(s, ",")}}, nil, &out)
}

// ListOperations calls GET /api/v1/operations.
func (c *Client) ListOperations(ctx context.Context, f gatehouse.OperationFilter) (*gatehouse.Page[*gatehouse.Operation], error) {
	return list[gatehouse.Page[*gatehouse.Operation]](ctx, c, "/api/v1/operations", f)
}

// Drift calls GET /api/v1/drift: the last finished reconcile of each system, with its findings.
func (c *Client) Drift(ctx context.Context, system string) ([]*gatehouse.Reconcile, error) {
	q := url.Values{}
	if system != "" {
		q.Set("system", system)
	}
	var out gatehouse.Page[*gatehouse.Reconcile]
	return out.Items, c.do(ctx, http.MethodGet, "/api/v1/drift", q, nil, &out)
}
