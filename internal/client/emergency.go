package client

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// NewEmergencyGrant is the body of POST /api/v1/emergency/grants.
type NewEmergencyGrant struct {
	Identity    string `json:"identity"`           // id, email or employee_id
	Entitlement string `json:"entitlement"`        // an entitlement with emergency: true
	Reason      string `json:"reason"`             // at least 15 characters
	Duration    string `json:"duration,omitempty"` // e.g. "1h"; "": the longest allowed
}

// EmergencyGrant is what an emergency grant created.
type EmergencyGrant struct {
	Grant  *gatehouse.Grant           `json:"grant"`
	Review *gatehouse.EmergencyReview `json:"review"`
}

// EmergencyReviews is a page of post-event reviews with the open and overdue counts.
type EmergencyReviews struct {
	Items      []*gatehouse.EmergencyReview `json:"items"`
	NextCursor string                       `json:"next_cursor,omitempty"`
	Open       int                          `json:"open"`
	Overdue    int                          `json:"overdue"`
}

// EmergencyReviewCompletion is the body of POST /api/v1/emergency/reviews/{id}/complete.
type EmergencyReviewCompletion struct {
	Who  string `json:"who"`
	Why  string `json:"why"`
	What string `json:"what"`
}

// GrantEmergency calls POST /api/v1/emergency/grants.
func (c *Client) GrantEmergency(ctx context.Context, in NewEmergencyGrant) (*EmergencyGrant, error) {
	var out EmergencyGrant
	return &out, c.do(ctx, http.MethodPost, "/api/v1/emergency/grants", nil, in, &out)
}

// ListEmergencyReviews calls GET /api/v1/emergency/reviews.
func (c *Client) ListEmergencyReviews(ctx context.Context, f gatehouse.EmergencyReviewFilter) (*EmergencyReviews, error) {
	return list[EmergencyReviews](ctx, c, "/api/v1/emergency/reviews", f)
}

// GetEmergencyReview calls GET /api/v1/emergency/reviews/{id}; id may be the reference.
func (c *Client) GetEmergencyReview(ctx context.Context, id string) (*gatehouse.EmergencyReview, error) {
	var out gatehouse.EmergencyReview
	return &out, c.do(ctx, http.MethodGet, "/api/v1/emergency/reviews/"+seg(id), nil, nil, &out)
}

// CompleteEmergencyReview calls POST /api/v1/emergency/reviews/{id}/complete.
func (c *Client) CompleteEmergencyReview(ctx context.Context, id string, in EmergencyReviewCompletion) (*gatehouse.EmergencyReview, error) {
	var out gatehouse.EmergencyReview
	return &out, c.do(ctx, http.MethodPost, "/api/v1/emergency/reviews/"+seg(id)+"/complete", nil, in, &out)
}
