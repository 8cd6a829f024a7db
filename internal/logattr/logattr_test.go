package logattr

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The same duration reads the same in both log formats, in milliseconds.
func TestMSInBothFormats(t *testing.T) {
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("slow", MS("took_ms", 1500*time.Microsecond+7*time.Nanosecond))
		if out := buf.String(); !strings.Contains(out, "took_ms=1.5") && !strings.Contains(out, `"took_ms":1.5`) {
			t.Errorf("want took_ms 1.5, got %s", out)
		}
	}
}
