package connector

import "context"

// CreatePreparer is an optional interface of a connector that can look for the accounts of
// many creations in one request before they run: on a first load every CreateAccount first
// searches for an account to adopt, and 10,000 such searches cost 10,000 round trips that
// almost always find nothing. The engine calls PrepareCreates with the specs of the next
// creations it is about to hand out (a few hundred at a time), then calls CreateAccount for
// each as usual. CreateAccount must stay correct whether or not PrepareCreates ran, and
// whatever changed on the target since: what PrepareCreates learns only saves it lookups (an
// account created meanwhile under a name found free still makes the create fail as taken, and
// CreateAccount then looks again and adopts it). An error from PrepareCreates is not an
// operation's failure: the engine logs it and the creations look for themselves.
type CreatePreparer interface {
	PrepareCreates(ctx context.Context, specs []AccountSpec) error
}
