package gatehouse

import "time"

// SCIMGroup is a group an identity source (an IdP such as Okta or Entra ID) pushed into
// Gatehouse over SCIM. Gatehouse does not provision it anywhere: it is kept so that the groups
// people hold in the IdP can be seen and reviewed next to the catalog's grants. Like an
// identity, it belongs to the source that created it (Source "scim:<id of the token's
// identity>"), and no other source may change it.
type SCIMGroup struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"display_name"`
	ExternalID  string    `json:"external_id,omitempty"`
	Source      string    `json:"source"`
	SourceName  string    `json:"source_name,omitempty"` // Source as people read it ("scim:<current email>"); never stored
	Members     []string  `json:"members"`               // identity ids, sorted
	Version     int64     `json:"version"`               // bumped by every change; the SCIM ETag is W/"<version>"
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}
