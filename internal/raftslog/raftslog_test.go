package raftslog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// At the default level an operator sees raft's warnings, not its chatter;
// --log-level debug shows the chatter too.
func TestInfoIsDebug(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var buf bytes.Buffer
		l := Logger{L: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))}
		l.Infof("%x became follower at term %d", 1, 5)
		l.Info("1 is starting a new election at term 5")
		l.Warningf("%x stepped down", 1)
		out := buf.String()
		chatter := strings.Contains(out, "became follower at term 5") && strings.Contains(out, "starting a new election")
		if level == slog.LevelInfo && (chatter || strings.Contains(out, "level=DEBUG")) {
			t.Errorf("at info, raft's Info lines are logged:\n%s", out)
		}
		if level == slog.LevelDebug && (!chatter || strings.Count(out, "level=DEBUG") != 2) {
			t.Errorf("at debug, raft's Info lines are missing or not at DEBUG:\n%s", out)
		}
		if !strings.Contains(out, `level=WARN msg="1 stepped down" component=raft`) {
			t.Errorf("raft's warning is missing:\n%s", out)
		}
	}
}
