// Command cairn runs one cairn member: an etcd-compatible key-value store
// that serves etcd's v3 JSON API and v2 API over a raft-replicated MVCC
// store.
//
// Flags keep etcd's names and defaults (flags.go); etcd's flags that cairn
// does not honour are refused by name or, for tuning without effect here,
// noted (etcdflags.go). Every flag is also read from ETCD_<FLAG> and
// CAIRN_<FLAG> (--data-dir: ETCD_DATA_DIR, CAIRN_DATA_DIR); the command
// line wins over CAIRN_, CAIRN_ over ETCD_ (parse.go). --config-file reads
// etcd's YAML configuration file instead (configfile.go). The log's first
// lines say what runs, the effective configuration and where each setting
// came from (logging.go).
//
// "cairn snapshot save <file>" backs up a live member and "cairn snapshot
// restore <file> ..." makes the data dir of a member of a new cluster from
// a backup (snapshot.go).
package main

import (
	"context"
	"errors"
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
	if err := m.ParseFlags(os.Args[1:], os.Environ()); errors.Is(err, errShown) {
		return // --help, --version
	} else if err != nil {
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
