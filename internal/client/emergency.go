package client

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// GrantEmergency calls POST /api/v1/emergency/grants.
func (c *Client) GrantEmergency(ctx context.Context, in service.NewEmergencyGrant) (*service.EmergencyGrant, error) {
	var out service.EmergencyGrant
	return &out, c.do(ctx, http.MethodPost, "/api/v1/emergency/grants", nil, in, &out)
}

// ListEmergencyReviews calls GET /api/v1/emergency/reviews.
func (c *Client) ListEmergencyReviews(ctx context.Context, f gatehouse.EmergencyReviewFilter) (*service.EmergencyReviews, error) {
	return list[service.EmergencyReviews](ctx, c, "/api/v1/emergency/reviews", f)
}

// GetEmergencyReview calls GET /api/v1/emergency/reviews/{id}; id may be the reference.
func (c *Client) GetEmergencyReview(ctx context.Context, id string) (*gatehouse.EmergencyReview, error) {
	var out gatehouse.EmergencyReview
	return &out, c.do(ctx, http.MethodGet, "/api/v1/emergency/reviews/"+seg(id), nil, nil, &out)
}

// CompleteEmergencyReview calls POST /api/v1/emergency/reviews/{id}/complete.
func (c *Client) CompleteEmergencyReview(ctx context.Context, id string, in service.EmergencyReviewCompletion) (*gatehouse.EmergencyReview, error) {
	var out gatehouse.EmergencyReview
	return &out, c.do(ctx, http.MethodPost, "/api/v1/emergency/reviews/"+seg(id)+"/complete", nil, in, &out)
}
