// Package server assembles Gatehouse's HTTP server: the JSON API (package api) and, when given,
// the web UI, behind security headers and with timeouts that keep slow or idle clients from
// holding connections open. It decides nothing else; cmd/gatehouse wires and runs it.
package server
