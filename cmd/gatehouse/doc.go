// Command gatehouse is the one Gatehouse binary: `gatehouse serve` runs the server (API, web
// UI), `gatehouse demo` runs it over a freshly seeded sample company, and every other command
// is a client of a running server through its HTTP API, configured by GATEHOUSE_ADDR and
// GATEHOUSE_TOKEN (or --addr and --token).
//
// This package only wires packages together and formats output. Exit codes follow the README
// (0 ok, 1 failure or findings, 2 usage error) and are decided in one place, exitCode in
// main.go.
package main
