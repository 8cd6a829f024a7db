package raftnode

import "go.etcd.io/raft/v3/raftpb"

// afterPersist reports whether a message of type t may only be sent once
// the Ready it came in is persisted: an append acknowledged and a vote (or
// pre-vote) answered promise what is on this member's disk. These are the
// types raft itself holds back until the storage write when it drives the
// storage asynchronously (raft.go, send: msgsAfterAppend); a rejection is
// held back too, as raft does.
func afterPersist(t raftpb.MessageType) bool {
	return t == raftpb.MsgAppResp || t == raftpb.MsgVoteResp || t == raftpb.MsgPreVoteResp
}

// SplitMessages splits a Ready's messages into those that may be sent
// before the Ready is persisted and those that must wait for it. raft puts
// the held-back answers after all the others in a Ready (rawnode.go,
// readyWithoutAccept), so the split is where the first of them is; should
// anything follow it, it waits too, which is always safe.
func SplitMessages(msgs []raftpb.Message) (early, late []raftpb.Message) {
	for i := range msgs {
		if afterPersist(msgs[i].Type) {
			return msgs[:i], msgs[i:]
		}
	}
	return msgs, nil
}
