package gatehouse

import (
	"fmt"
	"strconv"
	"strings"
)

// Work items people talk about carry a numbered reference: TASK-000123, REQ-000123,
// EMG-000123, EXC-000123. These two functions are the one shape of all of them.

// formatRef formats number n with prefix ("REQ") as people see it: REQ-000123.
func formatRef(prefix string, n int64) string { return fmt.Sprintf("%s-%06d", prefix, n) }

// parseRef parses a reference with prefix (case-insensitive, leading zeros optional) into its
// number; ok is false for anything else.
func parseRef(prefix, s string) (n int64, ok bool) {
	up := strings.ToUpper(s)
	if !strings.HasPrefix(up, prefix+"-") {
		return 0, false
	}
	n, err := strconv.ParseInt(up[len(prefix)+1:], 10, 64)
	return n, err == nil && n > 0
}
