package connector

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Factory opens a connector from its catalog settings. Secrets are resolved through secrets and
// never logged or put in errors.
type Factory func(ctx context.Context, settings map[string]any, secrets SecretResolver) (Connector, error)

// Registry maps a catalog connector type ("ldap") to its factory. It is an explicit map built
// by package connectors, not filled by init functions, so what a binary can connect to is
// written in one place.
type Registry map[string]Factory

// Open opens the connector a catalog system names. An unknown type is a Permanent error.
func (r Registry) Open(ctx context.Context, cfg gatehouse.Connector, secrets SecretResolver) (Connector, error) {
	f, ok := r[cfg.Type]
	if !ok {
		return nil, Permanentf("connector type %q: unknown (known: %s)", cfg.Type, strings.Join(r.Types(), ", "))
	}
	c, err := f(ctx, cfg.Settings, secrets)
	if err != nil {
		return nil, fmt.Errorf("open %s connector: %w", cfg.Type, err)
	}
	return c, nil
}

// Types lists the registered connector types, sorted.
func (r Registry) Types() []string {
	ts := make([]string, 0, len(r))
	for t := range r {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}
