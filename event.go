package cairn

// EventType is the kind of an Event, numbered as etcd's mvccpb.Event_EventType.
type EventType int32

// Event types.
const (
	// EventPut: a key was created or modified.
	EventPut EventType = iota
	// EventDelete: a key was deleted.
	EventDelete
)

func (t EventType) String() string {
	switch t {
	case EventPut:
		return "PUT"
	case EventDelete:
		return "DELETE"
	}
	return "UNKNOWN"
}

// Event is one change of one key, as etcd's mvccpb.Event.
//
// For EventPut, Kv is the key as written. For EventDelete, Kv holds only Key
// and ModRevision (the revision of the delete), as etcd's watch events do.
// PrevKv is the key as it was just before the change, nil if it did not
// exist. Events are shared by every consumer of Options.OnCommit: treat them
// as read-only.
type Event struct {
	Type   EventType
	Kv     *KeyValue
	PrevKv *KeyValue
}
