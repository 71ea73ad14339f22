package catalog

import "github.com/gatehouse/gatehouse/connector/connectors"

// specs are the connector types the binary knows, as gatehouse passes them to Parse and
// Validate; this package imports no connector, its tests do.
var specs = connectors.Specs
