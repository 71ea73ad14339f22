//go:build !failpoint

package sqlstore

import "github.com/gatehouse/gatehouse"

// failpoint is the crash tests' hook (failpoint.go), empty in a normal build: it costs nothing
// and does nothing.
type failpoint struct{}

func (*failpoint) saw(gatehouse.AuditAction) {}

func (*failpoint) afterCommit() {}
