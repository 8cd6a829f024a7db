package v2store

// Method is the HTTP method of a v2 write.
type Method uint8

// The v2 write methods.
const (
	// MethodPut: set, create (prevExist=false), update (prevExist=true) or
	// compareAndSwap (prevValue/prevIndex) the node at Path.
	MethodPut Method = iota + 1
	// MethodPost: create an in-order file under the directory Path.
	MethodPost
	// MethodDelete: delete or compareAndDelete the node at Path.
	MethodDelete
)

// Request is one v2 write, parsed at the edge and proposed through raft as
// it is; Apply turns it into one store transaction at apply time (where the
// state it depends on, such as the in-order name, is known). The fields
// are etcd v2's form parameters.
//
// Path is clean (CleanPath). PrevExist nil means not given. PrevValue ""
// and PrevIndex 0 mean not given (etcd refuses an empty prevValue when
// parsing). Recursive applies to MethodDelete (and implies Dir there).
// TTL (seconds, PUT and POST) attaches the node to a new lease of that TTL;
// nil makes the node permanent (etcd: a write without ttl, or with "ttl=",
// removes the TTL). Refresh (PUT, with TTL) keeps the node's value and
// gives it the new TTL without a v2 watch event.
type Request struct {
	Method    Method `json:"method"`
	Path      string `json:"path"`
	Value     string `json:"value,omitempty"`
	Dir       bool   `json:"dir,omitempty"`
	PrevExist *bool  `json:"prev_exist,omitempty"`
	PrevValue string `json:"prev_value,omitempty"`
	PrevIndex uint64 `json:"prev_index,omitempty"`
	Recursive bool   `json:"recursive,omitempty"`
	TTL       *int64 `json:"ttl,omitempty"`
	Refresh   bool   `json:"refresh,omitempty"`
}

// compares reports whether the request has a prevValue or prevIndex
// condition.
func (r *Request) compares() bool { return r.PrevValue != "" || r.PrevIndex != 0 }
