package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestImportOutlastsWriteTimeout: an HR import may take longer than the server's write timeout
// (5 minutes for other requests; 1 ms here): it extends its own deadlines, so its answer still
// arrives instead of the connection closing on an import that was applied.
func TestImportOutlastsWriteTimeout(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	srv := httptest.NewUnstartedServer(f.api)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 5*time.Second, time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	req, err := http.NewRequest("POST", srv.URL+"/api/v1/hr/imports", strings.NewReader(f.feed()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+f.secrets["operator"])
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("the import's answer did not arrive: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"status":"applied"`) {
		t.Fatalf("status %d, err %v: %.300s", resp.StatusCode, err, body)
	}
}
