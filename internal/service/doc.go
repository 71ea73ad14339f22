// Package service is what Gatehouse does, independent of how it is asked: the API, the web UI
// and the demo seeder call it with a Principal, and it authorizes the call, runs it in one store
// transaction together with its audit events, and returns domain objects.
//
// A change also says what it implies (effects.go): the reconciles of the systems it concerns,
// the expiry of a time-bound grant, the messages to the people concerned. Its writer knows
// what it changed (the JML plan its identities and grants, a request decision its grants and
// whom to tell), so it states them as it writes, and the jobs are inserted in the same
// transaction (JobQueue, Notifier): committed with the change, or not at all.
//
// Authorization lives here, in one place (authz.go), so that the API and the UI cannot disagree
// about who may do what.
package service
