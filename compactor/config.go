package compactor

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Auto-compaction modes (--auto-compaction-mode).
const (
	ModePeriodic = "periodic"
	ModeRevision = "revision"
)

// DefaultRevisionInterval is how often revision mode looks at the revision:
// etcd's fixed 5 minutes.
const DefaultRevisionInterval = 5 * time.Minute

// Config configures the compactions the leader proposes by itself. The zero
// value turns them off.
type Config struct {
	// Mode is ModePeriodic, ModeRevision, or "" for none.
	Mode string
	// Period is periodic mode's retention: the history of the last Period
	// is kept.
	Period time.Duration
	// Revisions is revision mode's retention: the last Revisions revisions
	// are kept.
	Revisions int64
	// RevisionInterval is how often revision mode compacts; 0 means
	// DefaultRevisionInterval (tests shorten it).
	RevisionInterval time.Duration
}

// Parse reads etcd's --auto-compaction-mode and --auto-compaction-retention.
// In periodic mode the retention is a duration ("30m") or a whole number of
// hours ("1"); in revision mode a number of revisions. A retention of 0
// turns auto-compaction off. Unlike etcd, which takes a duration in
// revision mode as that many nanoseconds' worth of revisions ("1h":
// 3,600,000,000,000 revisions), it refuses one. The error names the flag.
func Parse(mode, retention string) (Config, error) {
	if mode != ModePeriodic && mode != ModeRevision {
		return Config{}, fmt.Errorf("--auto-compaction-mode must be periodic or revision, not %q", mode)
	}
	var c Config
	n, err := strconv.ParseInt(retention, 10, 64)
	switch {
	case err == nil && n >= 0 && mode == ModeRevision:
		c.Revisions = n
	case err == nil && n >= 0:
		if n > math.MaxInt64/int64(time.Hour) {
			return Config{}, fmt.Errorf("--auto-compaction-retention: %s hours is too long", retention)
		}
		c.Period = time.Duration(n) * time.Hour
	case mode == ModeRevision:
		return Config{}, fmt.Errorf("--auto-compaction-retention: revision mode keeps a number of revisions (0 or more), not %q", retention)
	default:
		d, err := time.ParseDuration(retention)
		if err != nil || d < 0 {
			return Config{}, fmt.Errorf("--auto-compaction-retention: %q is neither a number of hours nor a duration such as 30m", retention)
		}
		c.Period = d
	}
	if c.Period > 0 || c.Revisions > 0 {
		c.Mode = mode
	}
	return c, nil
}
