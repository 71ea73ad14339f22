// Package connectors is the one place that says which connector types a Gatehouse binary can
// open: an explicit map from the catalog's connector type to a factory. It is a package of its
// own because the connector implementations import package connector for its types, so
// package connector cannot import them.
package connectors

import (
	"context"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/ldap"
)

// Registry maps catalog connector types to factories. scim and manual join it when they are
// written; until then the catalog may name them but opening one is a Permanent error.
var Registry = connector.Registry{
	"ldap": ldap.Open,
}

// Open opens the connector of a catalog system, resolving its secrets through secrets (nil:
// the process environment and files).
func Open(ctx context.Context, cfg gatehouse.Connector, secrets connector.SecretResolver) (connector.Connector, error) {
	if secrets == nil {
		secrets = connector.OSSecrets{}
	}
	return Registry.Open(ctx, cfg, secrets)
}
