// Package service is what Gatehouse does, independent of how it is asked: the API, the web UI
// and the demo seeder call it with a Principal, and it authorizes the call, runs it in one store
// transaction together with its audit events, and returns domain objects.
//
// Authorization lives here, in one place (authz.go), so that the API and the UI cannot disagree
// about who may do what.
package service
