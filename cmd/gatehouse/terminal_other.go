//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package main

// isTerminal reports false where terminals are not recognized: commands that ask before they
// revoke access then need their --yes.
func isTerminal(uintptr) bool { return false }
