// Package logattr holds the log attributes that several of cairn's packages
// write, so that one name means one thing in every log line.
//
// Durations are named by their unit: took_ms is milliseconds, to the
// microsecond. A time.Duration attribute would print as nanoseconds in the
// JSON format (slog's JSONHandler writes its integer) and as "1.5ms" in the
// text format; an operator's query should not depend on --log-format.
package logattr

import (
	"log/slog"
	"time"
)

// MS is the attribute key = d in milliseconds, to the microsecond. key
// should end in _ms.
func MS(key string, d time.Duration) slog.Attr {
	return slog.Float64(key, float64(d.Microseconds())/1000)
}

// TookMS is took_ms: the milliseconds since start.
func TookMS(start time.Time) slog.Attr { return MS("took_ms", time.Since(start)) }
