// Package demo seeds a fresh Gatehouse database with a sample company, so that `gatehouse demo`
// shows a realistic organization at once: a couple of hundred people in a manager hierarchy
// across ten departments, a catalog of systems, entitlements, birthright roles and
// separation-of-duties rules, and the grants that follow from them plus some exceptions.
//
// Everything is created through the service with a system principal, exactly as an operator
// would create it, so every seeded object has its audit event and the audit chain verifies.
// The company is deterministic: the same seed and reference time give the same people, so
// screenshots, docs and tests can name them.
package demo
