package client

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// ListTasks calls GET /api/v1/tasks.
func (c *Client) ListTasks(ctx context.Context, q service.TaskQuery) (*service.TaskList, error) {
	return list[service.TaskList](ctx, c, "/api/v1/tasks", q)
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
