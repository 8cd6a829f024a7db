package cairn

// Action is the v2 keys API action that wrote a revision record, kept in
// the record so that v2 watchers (also those catching up from history) see
// the action etcd v2 would report. v3 writes carry ActionNone; package
// v2store turns ActionNone into "set" for a put and "delete" for a delete.
//
// The values are stored in 4 bits of the record's flags byte (layout.go):
// never renumber them.
type Action uint8

// The actions, named as etcd v2's (etcd v2store/event.go).
const (
	// ActionNone: a v3 write (put, delete range, transaction).
	ActionNone Action = iota
	// ActionSet: v2 PUT without conditions.
	ActionSet
	// ActionCreate: v2 PUT with prevExist=false, or POST (in-order key).
	ActionCreate
	// ActionUpdate: v2 PUT with prevExist=true.
	ActionUpdate
	// ActionCompareAndSwap: v2 PUT with prevValue or prevIndex.
	ActionCompareAndSwap
	// ActionDelete: v2 DELETE without conditions.
	ActionDelete
	// ActionCompareAndDelete: v2 DELETE with prevValue or prevIndex.
	ActionCompareAndDelete
	// ActionExpire: a delete made by a lease revoke (a v2 TTL that ran out,
	// or any revoke of a lease the key was attached to).
	ActionExpire
	// ActionImplied: a change made as part of the v2 action of another key
	// in the same revision (a parent directory created on the way, a key
	// deleted with its directory). v2 watchers see only the main change, as
	// in etcd v2.
	ActionImplied

	actionLimit // first invalid value
)

var actionNames = [...]string{
	ActionNone:             "",
	ActionSet:              "set",
	ActionCreate:           "create",
	ActionUpdate:           "update",
	ActionCompareAndSwap:   "compareAndSwap",
	ActionDelete:           "delete",
	ActionCompareAndDelete: "compareAndDelete",
	ActionExpire:           "expire",
	ActionImplied:          "implied",
}

// String returns etcd v2's name of the action ("set", "compareAndSwap"...),
// "" for ActionNone, "implied" for ActionImplied and "unknown" for values
// out of range.
func (a Action) String() string {
	if a < actionLimit {
		return actionNames[a]
	}
	return "unknown"
}

// Valid reports whether a is one of the defined actions.
func (a Action) Valid() bool { return a < actionLimit }
