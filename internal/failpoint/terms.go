package failpoint

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type actionKind int

const (
	actOff actionKind = iota
	actPanic
	actSleep
	actReturn
)

// action is what one hit does.
type action struct {
	kind  actionKind
	sleep time.Duration
	errno error  // return(ENOSPC): the errno the error wraps
	msg   string // return("text") or return: the error's text
}

// term is one action of a chain with its count (-1: unlimited) and
// percentage (0: every hit).
type term struct {
	count   int
	percent float64
	act     action
}

func (t *term) draw() bool { return rand.Float64()*100 < t.percent }

// errnos are the errors return(NAME) can wrap.
var errnos = map[string]error{
	"ENOSPC": syscall.ENOSPC,
	"EIO":    syscall.EIO,
	"EROFS":  syscall.EROFS,
	"EDQUOT": syscall.EDQUOT,
}

// parseTerms parses terms chained with "->" (see the package documentation).
func parseTerms(s string) ([]term, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("no terms")
	}
	var out []term
	for _, part := range strings.Split(s, "->") {
		t, err := parseTerm(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// parseTerm parses [P%][N*]action[(arg)].
func parseTerm(s string) (term, error) {
	t := term{count: -1}
	if p, rest, ok := strings.Cut(s, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f <= 0 || f > 100 {
			return t, fmt.Errorf("percentage %q is not in (0, 100]", p)
		}
		t.percent, s = f, rest
	}
	if n, rest, ok := strings.Cut(s, "*"); ok {
		c, err := strconv.Atoi(n)
		if err != nil || c < 0 {
			return t, fmt.Errorf("count %q is not a whole number", n)
		}
		t.count, s = c, rest
	}
	name, arg, hasArg := strings.Cut(s, "(")
	if hasArg {
		var ok bool
		if arg, ok = strings.CutSuffix(arg, ")"); !ok {
			return t, errors.New("no closing parenthesis")
		}
	}
	switch name {
	case "off":
		t.act.kind = actOff
	case "panic":
		t.act.kind = actPanic
	case "sleep":
		d, err := parseSleep(arg)
		if err != nil {
			return t, err
		}
		t.act = action{kind: actSleep, sleep: d}
	case "return":
		t.act = action{kind: actReturn, msg: "return"}
		if hasArg {
			if e, ok := errnos[arg]; ok {
				t.act.errno = e
			} else if q, err := strconv.Unquote(arg); err == nil {
				t.act.msg = q
			} else {
				return t, fmt.Errorf("return(%s): neither an errno (ENOSPC, EIO, EROFS, EDQUOT) nor a quoted string", arg)
			}
		}
	default:
		return t, fmt.Errorf("unknown action %q (panic, sleep(d), return, off)", name)
	}
	if hasArg && name != "sleep" && name != "return" {
		return t, fmt.Errorf("%s takes no argument", name)
	}
	return t, nil
}

// parseSleep reads a duration, or a bare number of milliseconds (gofail).
func parseSleep(arg string) (time.Duration, error) {
	arg = strings.Trim(arg, `"`)
	if ms, err := strconv.Atoi(arg); err == nil && ms >= 0 {
		return time.Duration(ms) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(arg)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("sleep(%s): not a duration", arg)
	}
	return d, nil
}
