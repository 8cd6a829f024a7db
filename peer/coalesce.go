package peer

import "go.etcd.io/raft/v3/raftpb"

// coalesce merges, in place, the messages of one write that raft would
// handle the same way merged, and returns them (a prefix of msgs). raft
// sends a follower one append per proposal, a follower answers each, and a
// follower forwards each proposal of its clients as a message of its own:
// under load a write carries dozens of each, and every one costs the
// receiver a step of raft (and, for an append, an answer). Merged:
//
//   - consecutive appends (MsgApp) of one term where each starts at the
//     last entry of the one before (Index and LogTerm) become one append
//     of all their entries with the last one's commit index: the receiver
//     appends and commits exactly what it would have after each of them,
//     and a rejection of the first would have been a rejection of all;
//   - consecutive accepted append answers (MsgAppResp) of one term keep
//     only the last, whose index covers the earlier ones (raft reads
//     nothing else from an accepted answer);
//   - consecutive forwarded proposals (MsgProp) become one proposal of all
//     their entries, which the leader appends together.
//
// Other messages, and messages with anything between them, are left as
// they are; order is kept. Merged entries get a new slice: the messages'
// own Entries are raft's memory and are never appended to.
func coalesce(msgs []raftpb.Message) []raftpb.Message {
	out := msgs[:0]
	for i := 0; i < len(msgs); {
		j := i + 1
		for j < len(msgs) && mergeable(&msgs[j-1], &msgs[j]) {
			j++
		}
		m := msgs[i]
		if j-i > 1 {
			switch m.Type {
			case raftpb.MsgApp, raftpb.MsgProp:
				n := 0
				for k := i; k < j; k++ {
					n += len(msgs[k].Entries)
				}
				ents := make([]raftpb.Entry, 0, n)
				for k := i; k < j; k++ {
					ents = append(ents, msgs[k].Entries...)
				}
				m.Entries = ents
				m.Commit = msgs[j-1].Commit
			case raftpb.MsgAppResp:
				m = msgs[j-1]
			}
		}
		out = append(out, m)
		i = j
	}
	return out
}

// mergeable reports whether b, sent right after a to the same member, may
// be merged into it (see coalesce).
func mergeable(a, b *raftpb.Message) bool {
	if a.Type != b.Type || a.From != b.From || a.To != b.To || a.Term != b.Term {
		return false
	}
	switch a.Type {
	case raftpb.MsgApp:
		lastIndex, lastTerm := a.Index, a.LogTerm
		if n := len(a.Entries); n > 0 {
			lastIndex, lastTerm = a.Entries[n-1].Index, a.Entries[n-1].Term
		}
		return b.Index == lastIndex && b.LogTerm == lastTerm && b.Commit >= a.Commit
	case raftpb.MsgAppResp:
		return !a.Reject && !b.Reject && b.Index >= a.Index
	case raftpb.MsgProp:
		return true
	}
	return false
}
