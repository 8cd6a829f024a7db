package cairn

import (
	"context"
	"fmt"
	"io"
)

// Status is a member's answer to /v3/maintenance/status, as etcd's
// StatusResponse. Sizes are bytes; indexes are raft log indexes.
type Status struct {
	Header           ResponseHeader
	Version          string
	DBSize           int64
	DBSizeInUse      int64
	Leader           uint64
	RaftIndex        uint64
	RaftTerm         uint64
	RaftAppliedIndex uint64
	Errors           []string
	IsLearner        bool
}

// Maintenance is what the maintenance endpoints need from a member.
type Maintenance interface {
	// Status reports the member's state; it does not go through raft.
	Status(ctx context.Context) (*Status, error)
}

// Alarm types and actions, as etcd's etcdserverpb.AlarmType and
// AlarmRequest.AlarmAction.
// AlarmTypeNames are the names of the alarm types, indexed by type, as
// etcd's etcdserverpb.AlarmType enum. Do not modify.
var AlarmTypeNames = [...]string{AlarmNone: "NONE", AlarmNoSpace: "NOSPACE", AlarmCorrupt: "CORRUPT"}

const (
	AlarmNone    int32 = 0
	AlarmNoSpace int32 = 1
	AlarmCorrupt int32 = 2

	AlarmGet        int32 = 0
	AlarmActivate   int32 = 1
	AlarmDeactivate int32 = 2
)

// AlarmMember is one raised alarm: the member that raised it and its type.
type AlarmMember struct {
	MemberID uint64
	Alarm    int32
}

// SnapshotReader is a consistent copy of a member's store file being read:
// its size in bytes is known before WriteTo writes it. Close releases it.
type SnapshotReader interface {
	Size() int64
	WriteTo(w io.Writer) (int64, error)
	Close() error
}

// HashKVResponse answers /v3/maintenance/hashkv: the hash of the MVCC
// history up to a revision, and the compaction revision it starts from.
type HashKVResponse struct {
	Header          ResponseHeader
	Hash            uint32
	CompactRevision int64
}

// MaintenanceOps is what the maintenance endpoints beyond status need from a
// member. Every method is safe for concurrent use.
type MaintenanceOps interface {
	// Snapshot opens a consistent copy of the member's store file.
	Snapshot(ctx context.Context) (SnapshotReader, error)
	// Defragment rewrites the member's store file without its free pages.
	Defragment(ctx context.Context) error
	// Alarm gets, raises or clears alarms through raft (etcd's
	// Maintenance.Alarm): GET lists them; ACTIVATE and DEACTIVATE return the
	// alarm they changed (none if nothing changed). ACTIVATE of AlarmNone
	// changes nothing; a type without a name in AlarmTypeNames is refused
	// with an error.
	Alarm(ctx context.Context, action int32, a AlarmMember) ([]AlarmMember, error)
	// Hash hashes the member's store file contents (buckets, keys,
	// values), after writing everything applied to it.
	Hash(ctx context.Context) (uint32, *ResponseHeader, error)
	// HashKV hashes the MVCC history up to revision rev (0: the current
	// one) as it is after compaction: equal on every member at the same
	// revision. Errors: ErrCompacted, ErrFutureRev.
	HashKV(ctx context.Context, rev int64) (*HashKVResponse, error)
}

// AlarmString prints an alarm as etcd's status "errors" do (the protobuf
// text form): "memberID:1 alarm:NOSPACE ".
func AlarmString(am AlarmMember) string {
	s := fmt.Sprintf("memberID:%d ", am.MemberID)
	if am.Alarm > 0 && int(am.Alarm) < len(AlarmTypeNames) {
		s += "alarm:" + AlarmTypeNames[am.Alarm] + " "
	}
	return s
}
