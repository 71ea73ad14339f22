package sqlstore_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Harness { return storetest.NewSQLite(t) })
}
