// Package examples holds the example files of the README's tour. The catalog is embedded so
// that `gatehouse demo` seeds the very files a newcomer reads, plans and applies: the demo and
// the example cannot drift apart. (examples/people.csv, the tour's HR feed, is checked against
// the demo company by the tests of internal/demo.)
package examples

import "embed"

// Catalog holds the demo company's catalog under catalog/: its systems, entitlements, roles
// and SoD rules, in the format of docs/catalog.md.
//
//go:embed catalog/*.yaml
var Catalog embed.FS
