package sqlstore_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

func TestZZSeedKeep(t *testing.T) {
	for _, dsn := range []string{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=gh_keep", "sqlite:/tmp/ghx/keep.db"} {
		s, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(dsn, seedIdentities(t, s, 100000))
		s.Close()
	}
}
