// Package failpoint is cairn's fault injection at named points in the code
// (gofail-style, after etcd's go.etcd.io/gofail, without its code
// generation): the robustness suite (e2e/robustness_*_test.go) crashes a
// member at a chosen point, slows its fsync or makes a write fail.
//
// # In the code
//
// A point is one line where it sits:
//
//	failpoint.Hit("raftlog/afterSync")            // may crash or sleep
//	if err := failpoint.Err("raftlog/beforeWrite"); err != nil { ... } // may also fail
//
// When nothing is armed (always, in production) Hit and Err cost one atomic
// load (BenchmarkUnarmed). Every point is listed in Points with what has
// happened and what has not when it is reached; arming a name that is not
// listed is refused, and TestPointsAreInTheCode checks that the list and the
// code agree.
//
// # Arming
//
// The environment variable CAIRN_FAILPOINTS, read once when the binary
// starts, arms points: name=terms pairs separated by ';', as gofail's
// GOFAIL_FAILPOINTS:
//
//	CAIRN_FAILPOINTS='raftlog/beforeSync=sleep(200ms);store/afterCommit=37*off->panic'
//
// With CAIRN_FAILPOINTS_HTTP=host:port the binary also serves an endpoint to
// arm and disarm points while it runs (never without that variable; it has
// no authentication, so bind it to loopback): GET / lists every point and
// its terms, GET /<name> shows one, PUT /<name> with the terms as the body
// arms it, DELETE /<name> disarms it. The names contain a '/', so the path is
// the whole rest of the URL: PUT /raftlog/beforeSync.
//
// # Terms
//
// Terms are one or more actions chained with "->", each with an optional
// count or percentage in front (gofail's grammar):
//
//	panic          crash the process (see below)
//	sleep(200ms)   sleep; a bare number is milliseconds, as in gofail
//	return         make an Err point fail with an error
//	return(ENOSPC) ... whose cause is that errno (ENOSPC, EIO, EROFS, EDQUOT)
//	return("text") ... with that text
//	off            do nothing (useful in a chain)
//	3*sleep(1s)    the action for the next 3 hits, then the next term
//	25%sleep(1s)   the action on a quarter of the hits, at random
//	37*off->panic  nothing for 37 hits, then crash at the 38th
//
// When the last counted term is used up the point does nothing. A "return"
// armed on a point that cannot fail (one reached through Hit) is refused.
//
// # Crash
//
// "panic" is a crash of the process, not a Go panic: Hit writes one line to
// stderr ("failpoint raftlog/afterSync: crash") and exits at once with
// ExitCode (os.Exit: no deferred function runs, no file is closed or
// flushed, no recover can catch it), as a power cut of the process would
// leave it. Data in the kernel's page cache survives, as it does when a
// process is killed; losing it is the torn-write tests' concern
// (raftlog/unsynced_test.go, e2e/torn_test.go).
package failpoint
