// Package raftslog lets raft (go.etcd.io/raft/v3) log through log/slog:
// Logger implements raft.Logger, tagging every record component=raft.
//
// raft says a lot at its Info level: every term change, vote, pre-vote,
// configuration switch and log truncation. None of it asks an operator to do
// anything, and what an operator needs of it the member logs in its own
// words (leader changed, membership changed, snapshot installed), so raft's
// Info lines go out at debug (--log-level debug shows them). raft's
// warnings and errors keep their level.
package raftslog

import (
	"context"
	"fmt"
	"log/slog"
	"os"
)

// Logger lets raft log through slog. raft's Fatal and Panic end the
// process, as raft expects.
type Logger struct {
	L *slog.Logger // where the records go
}

func (r Logger) log(level slog.Level, msg string) {
	r.L.Log(context.Background(), level, msg, "component", "raft")
}

// Debug prints its arguments and logs them at level debug.
func (r Logger) Debug(v ...any) { r.log(slog.LevelDebug, fmt.Sprint(v...)) }

// Debugf formats its arguments and logs them at level debug.
func (r Logger) Debugf(format string, v ...any) {
	r.log(slog.LevelDebug, fmt.Sprintf(format, v...))
}

// Info prints its arguments and logs them at level debug (see the package
// comment).
func (r Logger) Info(v ...any) { r.log(slog.LevelDebug, fmt.Sprint(v...)) }

// Infof formats its arguments and logs them at level debug (see the package
// comment).
func (r Logger) Infof(format string, v ...any) {
	r.log(slog.LevelDebug, fmt.Sprintf(format, v...))
}

// Warning prints its arguments and logs them at level warn.
func (r Logger) Warning(v ...any) { r.log(slog.LevelWarn, fmt.Sprint(v...)) }

// Warningf formats its arguments and logs them at level warn.
func (r Logger) Warningf(format string, v ...any) {
	r.log(slog.LevelWarn, fmt.Sprintf(format, v...))
}

// Error prints its arguments and logs them at level error.
func (r Logger) Error(v ...any) { r.log(slog.LevelError, fmt.Sprint(v...)) }

// Errorf formats its arguments and logs them at level error.
func (r Logger) Errorf(format string, v ...any) {
	r.log(slog.LevelError, fmt.Sprintf(format, v...))
}

// Fatal prints its arguments and logs them at level error, then exits.
func (r Logger) Fatal(v ...any) {
	r.log(slog.LevelError, fmt.Sprint(v...))
	os.Exit(1)
}

// Fatalf formats its arguments and logs them at level error, then exits.
func (r Logger) Fatalf(format string, v ...any) {
	r.log(slog.LevelError, fmt.Sprintf(format, v...))
	os.Exit(1)
}

// Panic prints its arguments and logs them at level error, then panics.
func (r Logger) Panic(v ...any) {
	s := fmt.Sprint(v...)
	r.log(slog.LevelError, s)
	panic(s)
}

// Panicf formats its arguments and logs them at level error, then panics.
func (r Logger) Panicf(format string, v ...any) {
	s := fmt.Sprintf(format, v...)
	r.log(slog.LevelError, s)
	panic(s)
}
