// Package demo seeds a fresh Gatehouse database with a sample company, so that `gatehouse demo`
// shows a realistic organization at once: a couple of hundred people in a manager hierarchy
// across ten departments, a catalog of systems, entitlements, birthright roles and
// separation-of-duties rules, and the grants that follow from them plus some exceptions.
//
// Everything is created through the service with a system principal, exactly as an operator
// would create it, so every seeded object has its audit event and the audit chain verifies.
// The company is deterministic: the same seed gives the same people with the same HR dates on
// any day (ReferenceDate), so screenshots, docs, tests and examples/people.csv, the README
// tour's HR feed, can name them. Its catalog is examples/catalog, embedded by package examples.
package demo
