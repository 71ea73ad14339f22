package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse"
)

// TaskFilter selects manual tasks.
type TaskFilter struct {
	System  string
	Status  string // open, done, cancelled; "" for every status
	Overdue bool
	ListOptions
}

// TaskList is a page of tasks, most urgent first, with the number overdue.
type TaskList struct {
	Items      []*gatehouse.ManualTask `json:"items"`
	NextCursor string                  `json:"next_cursor,omitempty"`
	Overdue    int                     `json:"overdue"`
}

// ListTasks calls GET /api/v1/tasks.
func (c *Client) ListTasks(ctx context.Context, f TaskFilter) (*TaskList, error) {
	q := url.Values{}
	set(q, "system", f.System)
	set(q, "status", f.Status)
	if f.Overdue {
		q.Set("overdue", "true")
	}
	f.ListOptions.add(q)
	var out TaskList
	return &out, c.do(ctx, http.MethodGet, "/api/v1/tasks", q, nil, &out)
}

// GetTask calls GET /api/v1/tasks/{id}; id may be the reference (TASK-000123).
func (c *Client) GetTask(ctx context.Context, id string) (*gatehouse.ManualTask, error) {
	var out gatehouse.ManualTask
	return &out, c.do(ctx, http.MethodGet, "/api/v1/tasks/"+seg(id), nil, nil, &out)
}

// CompleteTask calls POST /api/v1/tasks/{id}/complete.
func (c *Client) CompleteTask(ctx context.Context, id, note, evidenceSHA256 string) (*gatehouse.ManualTask, error) {
	var out gatehouse.ManualTask
	body := map[string]string{"note": note}
	if evidenceSHA256 != "" {
		body["evidence_sha256"] = evidenceSHA256
	}
	return &out, c.do(ctx, http.MethodPost, "/api/v1/tasks/"+seg(id)+"/complete", nil, body, &out)
}
