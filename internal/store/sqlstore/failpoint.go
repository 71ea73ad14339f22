//go:build failpoint

package sqlstore

// The crash tests' failpoint (cmd/gatehouse's, which build the binary with -tags failpoint):
// with GATEHOUSE_FAILPOINT=exit-after-commit:<audit action>, the process exits right after it
// commits a transaction that appended an event of that action, before anything that follows
// the commit runs, as if it had been killed at that instant. A binary built without the tag
// has no such hook (nofailpoint.go).

import (
	"fmt"
	"os"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// FailpointExit is the exit status of a process the failpoint stopped.
const FailpointExit = 86

var failAfterCommit = func() string {
	action, _ := strings.CutPrefix(os.Getenv("GATEHOUSE_FAILPOINT"), "exit-after-commit:")
	if action == os.Getenv("GATEHOUSE_FAILPOINT") {
		return "" // another failpoint, or none
	}
	return action
}()

// failpoint is whether a transaction appended the failpoint's action.
type failpoint struct{ hit bool }

func (f *failpoint) saw(a gatehouse.AuditAction) {
	if failAfterCommit != "" && string(a) == failAfterCommit {
		f.hit = true
	}
}

func (f *failpoint) afterCommit() {
	if f.hit {
		fmt.Fprintf(os.Stderr, "failpoint: exit right after the commit of %s\n", failAfterCommit)
		os.Exit(FailpointExit)
	}
}
