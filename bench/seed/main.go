// Command seed fills a Gatehouse database with many synthetic identities, for the benchmarks
// under bench/ (list latency and memory of `gatehouse serve` at 100,000 identities). Every
// identity is written through the store with its audit event, as the product would.
//
//	go run ./bench/seed --db sqlite:/tmp/big.db --identities 100000
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

var departments = []string{"Engineering", "Finance", "Sales", "Marketing", "People", "IT", "Security", "Legal", "Operations", "Support"}

func main() {
	db := flag.String("db", "sqlite:./bench.db", "database (sqlite:PATH or postgres:// URL)")
	n := flag.Int("identities", 100000, "identities to create")
	batch := flag.Int("batch", 5000, "identities per transaction")
	flag.Parse()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, *db)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	for done := 0; done < *n; {
		end := min(done+*batch, *n)
		err := st.Update(ctx, func(tx store.Tx) error {
			for i := done; i < end; i++ {
				id := &gatehouse.Identity{
					EmployeeID: fmt.Sprintf("B%07d", i), Email: fmt.Sprintf("person%07d@bench.example.com", i),
					FirstName: fmt.Sprintf("First%d", i%997), LastName: fmt.Sprintf("Last%d", i%1009),
					Department: departments[i%len(departments)], Title: "Analyst", Location: "Berlin",
					EmploymentType: gatehouse.Employee, Status: gatehouse.StatusActive, StartDate: "2024-01-15",
					Kind: gatehouse.KindPerson, Source: "bench", Attributes: map[string]string{"cost_center": fmt.Sprintf("CC-%03d", i%300)},
				}
				if err := tx.CreateIdentity(ctx, id); err != nil {
					return err
				}
				if err := tx.AppendAudit(ctx, &gatehouse.AuditEvent{
					Actor: "system:bench", Action: gatehouse.AuditIdentityCreate, ObjectType: "identity", ObjectID: id.ID,
				}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			log.Fatalf("seed identities %d..%d: %v", done, end, err)
		}
		done = end
	}
	fmt.Printf("seeded %d identities in %s\n", *n, time.Since(start).Round(time.Millisecond))
}
