package sqlstore_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestPostgres runs the conformance suite on $GATEHOUSE_TEST_POSTGRES, one schema per test. It
// skips when PostgreSQL is unreachable, except under CI=true, where that is a failure.
func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.PostgresURL(t)
	storetest.Run(t, func(t *testing.T) storetest.Harness { return storetest.NewPostgres(t) })
}
