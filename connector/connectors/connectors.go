// Package connectors is the one place that says which connector types a Gatehouse binary can
// open: an explicit map from the catalog's connector type to a factory. It is a package of its
// own because the connector implementations import package connector for its types, so
// package connector cannot import them.
package connectors

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/ldap"
	"github.com/gatehouse/gatehouse/connector/manual"
	"github.com/gatehouse/gatehouse/connector/scim"
)

// Specs declares the connector types a binary knows, in the order they are listed to people:
// catalog validation (catalog.Parse) and the service receive it, so they name no connector.
var Specs = gatehouse.ConnectorSpecs{ldap.Spec, scim.Spec, manual.Spec}

// Registry maps catalog connector types to factories: ldap (OpenLDAP and AD), scim (SCIM 2.0
// service providers) and manual. manual is listed so that it counts as supported, but it needs
// the system and a task store: OpenSystem opens it.
var Registry = connector.Registry{
	ldap.Spec.Type:   ldap.Open,
	scim.Spec.Type:   scim.Open,
	manual.Spec.Type: openWithTasksAlone,
}

// withTasks opens the connectors whose spec says people do the work through tasks: they need
// their system (tasks are named by it and due by its tier) and the task store.
var withTasks = map[string]func(*gatehouse.System, manual.TaskStore) (connector.Connector, error){
	manual.Spec.Type: func(sys *gatehouse.System, tasks manual.TaskStore) (connector.Connector, error) {
		cfg, err := manual.ParseConfig(sys, tasks)
		if err != nil {
			return nil, err
		}
		return cfg.Open(), nil
	},
}

func openWithTasksAlone(context.Context, map[string]any, connector.SecretResolver) (connector.Connector, error) {
	return nil, connector.Permanentf("a manual connector needs its system and task queue: open it with connectors.OpenSystem")
}

// OpenSystem opens the connector of a catalog system. Connectors that need more than their
// settings get it here: a task connector (Spec.Tasks) its system and the task store.
func OpenSystem(ctx context.Context, sys *gatehouse.System, tasks manual.TaskStore, secrets connector.SecretResolver) (connector.Connector, error) {
	if open := withTasks[sys.Connector.Type]; open != nil {
		c, err := open(sys, tasks)
		if err != nil {
			return nil, fmt.Errorf("open %s connector: %w", sys.Connector.Type, err)
		}
		return c, nil
	}
	return Open(ctx, sys.Connector, secrets)
}

// Open opens the connector of a catalog system, resolving its secrets through secrets (nil:
// the process environment and files).
func Open(ctx context.Context, cfg gatehouse.Connector, secrets connector.SecretResolver) (connector.Connector, error) {
	if secrets == nil {
		secrets = connector.OSSecrets{}
	}
	return Registry.Open(ctx, cfg, secrets)
}
