// Command cairn runs one cairn member: an etcd-compatible key-value store
// that serves etcd's v3 JSON API over a raft-replicated MVCC store.
//
// Flags keep etcd's names and defaults; every flag can also be given as an
// environment variable CAIRN_<FLAG_NAME> (--data-dir is CAIRN_DATA_DIR). A
// flag on the command line wins over its environment variable.
//
// "cairn snapshot save <file>" backs up a live member and "cairn snapshot
// restore <file> ..." makes the data dir of a member of a new cluster from
// a backup (snapshot.go).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "snapshot" {
		os.Exit(snapshotCommand(os.Args[2:], os.Stdout, os.Stderr))
	}
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "cairn:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "cairn:", err)
		os.Exit(1)
	}
}
