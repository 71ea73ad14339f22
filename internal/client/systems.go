package client

// Systems' health: the connector test and a system's provisioning status.

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

// SystemTest is the result of testing a system's connector (the server's service.SystemTest).
type SystemTest struct {
	SystemID     string    `json:"system_id"`
	Name         string    `json:"name"`
	Type         string    `json:"type"`
	OK           bool      `json:"ok"`
	Checked      string    `json:"checked,omitempty"`
	Failure      string    `json:"failure,omitempty"` // unreachable, tls, url, credentials, permission, config, server
	Step         string    `json:"step,omitempty"`
	Explanation  string    `json:"explanation,omitempty"`
	Detail       string    `json:"detail,omitempty"`
	DurationMS   int64     `json:"duration_ms"`
	Capabilities []string  `json:"capabilities"`
	TestedAt     time.Time `json:"tested_at"`
}

// SystemStatus is a system's provisioning status (the server's service.SystemStatus).
type SystemStatus struct {
	System       *gatehouse.System      `json:"system"`
	LastRun      *gatehouse.Reconcile   `json:"last_run,omitempty"`
	Runs         []*gatehouse.Reconcile `json:"runs"`
	Operations   []*gatehouse.Operation `json:"operations"`
	OpenTasks    int                    `json:"open_tasks"`
	OverdueTasks int                    `json:"overdue_tasks"`
	MoreTasks    bool                   `json:"more_tasks,omitempty"`
}

// TestSystem calls POST /api/v1/systems/{id}/test. A failed check is a result with OK false,
// not an error.
func (c *Client) TestSystem(ctx context.Context, id string) (*SystemTest, error) {
	var out SystemTest
	return &out, c.do(ctx, http.MethodPost, "/api/v1/systems/"+seg(id)+"/test", nil, nil, &out)
}

// SystemStatus calls GET /api/v1/systems/{id}/status.
func (c *Client) SystemStatus(ctx context.Context, id string) (*SystemStatus, error) {
	var out SystemStatus
	return &out, c.do(ctx, http.MethodGet, "/api/v1/systems/"+seg(id)+"/status", nil, nil, &out)
}
