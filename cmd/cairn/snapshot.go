package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cairnkv/cairn/snapshot"
)

const snapshotUsage = `usage:
  cairn snapshot save <file> [--endpoints http://127.0.0.1:2379]
      back up a live member: its store, consistent, with a SHA-256 appended
      (etcd's snapshot file format)
  cairn snapshot restore <file> --data-dir <dir> --name <name>
        --initial-cluster <name=peerURL,...> [--initial-cluster-token <token>]
        [--initial-advertise-peer-urls <peerURL>] [--wal-dir <dir>]
      make <dir> the data dir of member <name> of a new cluster holding the
      backup's data; restore every member of the new cluster from the same
      file with the same --initial-cluster and token, then start each with
      cairn --data-dir <dir> (and its listen flags). <file> may also be an
      etcd 3 snapshot (etcdctl snapshot save): its keys, revisions and
      leases come over
`

// snapshotCommand runs "cairn snapshot ..." and returns the exit code.
func snapshotCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, snapshotUsage)
		return 2
	}
	var err error
	switch args[0] {
	case "save":
		err = snapshotSave(args[1:], stdout)
	case "restore":
		err = snapshotRestore(args[1:], stdout)
	default:
		fmt.Fprint(stderr, snapshotUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "cairn snapshot:", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprint(stderr, snapshotUsage)
			return 2
		}
		return 1
	}
	return 0
}

type usageError struct{ error }

// splitArgs separates the one positional argument (the file) from flags,
// which may come before or after it.
func splitArgs(args []string, fs *flag.FlagSet) (string, error) {
	var file string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return "", usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if file != "" {
			return "", usageError{fmt.Errorf("unexpected argument %q", args[0])}
		}
		file, args = args[0], args[1:]
	}
	if file == "" {
		return "", usageError{errors.New("no file given")}
	}
	return file, nil
}

func snapshotSave(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cairn snapshot save", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	endpoints := fs.String("endpoints", "http://127.0.0.1:2379", "client URL of the member to back up (the first of a comma list)")
	timeout := fs.Duration("command-timeout", 5*time.Minute, "time the backup may take")
	file, err := splitArgs(args, fs)
	if err != nil {
		return err
	}
	endpoint := strings.TrimSpace(strings.Split(*endpoints, ",")[0])
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	n, err := saveSnapshot(ctx, endpoint, file)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Snapshot saved at %s (%d bytes of store, from %s)\n", file, n, endpoint)
	return nil
}

// saveSnapshot asks the member at endpoint (a client URL, http://host:port)
// for a snapshot of its store (POST /v3/maintenance/snapshot) and writes
// the stream as the backup file at path (snapshot.Save, which checks the
// SHA-256 the stream ends with). It returns the size of the store file in
// bytes. ctx bounds the whole transfer. A status other than 200 is an error
// quoting the start of the member's answer.
func saveSnapshot(ctx context.Context, endpoint, path string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+"/v3/maintenance/snapshot", strings.NewReader("{}"))
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, fmt.Errorf("snapshot: %s answered %d: %s", endpoint, resp.StatusCode, bytes.TrimSpace(body))
	}
	return snapshot.Save(path, resp.Body)
}

func snapshotRestore(args []string, stdout io.Writer) error {
	c := DefaultConfig()
	fs := flag.NewFlagSet("cairn snapshot restore", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.DataDir, "data-dir", "", "data dir to create for the restored member")
	fs.StringVar(&c.WALDir, "wal-dir", "", "directory for the raft log, if not <data-dir>/wal (start the member with the same --wal-dir)")
	fs.StringVar(&c.Name, "name", c.Name, "name of the restored member")
	fs.StringVar(&c.InitialCluster, "initial-cluster", "", "the new cluster, name=peerURL,... (default: <name>=<initial-advertise-peer-urls>)")
	fs.StringVar(&c.InitialClusterToken, "initial-cluster-token", c.InitialClusterToken, "token of the new cluster")
	fs.StringVar(&c.InitialAdvertisePeerURLs, "initial-advertise-peer-urls", c.InitialAdvertisePeerURLs, "peer URLs of the restored member")
	file, err := splitArgs(args, fs)
	if err != nil {
		return err
	}
	if c.DataDir == "" {
		c.DataDir = c.Name + ".cairn"
	}
	advertised := false
	fs.Visit(func(f *flag.Flag) { advertised = advertised || f.Name == "initial-advertise-peer-urls" })
	sc, err := c.serverConfig(nil)
	if err != nil {
		return err
	}
	if !advertised {
		sc.PeerURLs = nil // the member's entry in --initial-cluster
	}
	sc.InitialClusterState = "new"
	rc := snapshot.RestoreConfig{DataDir: sc.DataDir, WALDir: sc.WALDir, Name: sc.Name, InitialCluster: sc.InitialCluster,
		InitialClusterToken: sc.InitialClusterToken, PeerURLs: sc.PeerURLs, Logger: sc.Logger}
	if err := snapshot.Restore(rc, file); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Restored %s into %s as member %q of a new cluster (%d members)\n", file, c.DataDir, c.Name, len(sc.InitialCluster))
	return nil
}
