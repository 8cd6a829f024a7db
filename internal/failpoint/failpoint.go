package failpoint

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ExitCode is the exit status of a process that crashed at a failpoint
// ("panic"), distinct from a Go panic (2) and a kill -9.
const ExitCode = 86

// armed is the armed points by name; nil when none is, so that an unarmed
// point costs one atomic load.
var armed atomic.Pointer[map[string]*state]

// mu serializes Arm and Disarm (they replace armed, copy on write).
var mu sync.Mutex

// exit ends the process at a crash; tests replace it.
var exit = os.Exit

// state is an armed point: its terms and how far along them it is.
type state struct {
	text  string
	mu    sync.Mutex
	terms []term
}

// Hit evaluates the point called name: nothing when it is not armed, else
// its current term: a crash, a sleep, or nothing. Use it at points that
// cannot fail (Points says which).
func Hit(name string) {
	if armed.Load() != nil {
		eval(name)
	}
}

// Err evaluates the point called name as Hit does, and returns the error of
// a "return" term (which wraps the errno it names, for errors.Is); nil
// otherwise.
func Err(name string) error {
	if armed.Load() != nil {
		return eval(name)
	}
	return nil
}

func eval(name string) error {
	m := armed.Load()
	if m == nil {
		return nil
	}
	st := (*m)[name]
	if st == nil {
		return nil
	}
	a := st.next()
	switch a.kind {
	case actPanic:
		fmt.Fprintf(os.Stderr, "failpoint %s: crash\n", name)
		exit(ExitCode)
	case actSleep:
		time.Sleep(a.sleep)
	case actReturn:
		if a.errno != nil {
			return fmt.Errorf("failpoint %s: %w", name, a.errno)
		}
		return fmt.Errorf("failpoint %s: %s", name, a.msg)
	}
	return nil
}

// next picks the action of this hit and moves along the terms.
func (st *state) next() action {
	st.mu.Lock()
	defer st.mu.Unlock()
	for len(st.terms) > 0 {
		t := &st.terms[0]
		if t.count == 0 { // used up (a counted term)
			st.terms = st.terms[1:]
			continue
		}
		if t.percent > 0 && !t.draw() {
			return action{}
		}
		if t.count > 0 {
			t.count--
		}
		return t.act
	}
	return action{}
}

// Arm arms the point called name with terms (see the package
// documentation), replacing what it had. It refuses an unknown name, terms
// it cannot parse, and "return" on a point that cannot fail.
func Arm(name, terms string) error {
	st, err := prepare(name, terms)
	if err != nil {
		return err
	}
	store(map[string]*state{name: st})
	return nil
}

// prepare checks name and parses terms into a new state.
func prepare(name, terms string) (*state, error) {
	p, ok := lookup(name)
	if !ok {
		return nil, fmt.Errorf("failpoint: no point %q (see internal/failpoint/points.go)", name)
	}
	ts, err := parseTerms(terms)
	if err != nil {
		return nil, fmt.Errorf("failpoint %s: %w", name, err)
	}
	if !p.CanFail && slices.ContainsFunc(ts, func(t term) bool { return t.act.kind == actReturn }) {
		return nil, fmt.Errorf("failpoint %s: cannot fail (it is reached through Hit); only panic, sleep and off", name)
	}
	return &state{text: terms, terms: ts}, nil
}

// store arms the points of add, keeping the others armed.
func store(add map[string]*state) {
	mu.Lock()
	defer mu.Unlock()
	next := map[string]*state{}
	if m := armed.Load(); m != nil {
		maps.Copy(next, *m)
	}
	maps.Copy(next, add)
	armed.Store(&next)
}

// Disarm disarms the point called name; an unknown or unarmed name is not
// an error.
func Disarm(name string) {
	mu.Lock()
	defer mu.Unlock()
	m := armed.Load()
	if m == nil || (*m)[name] == nil {
		return
	}
	next := maps.Clone(*m)
	delete(next, name)
	if len(next) == 0 {
		armed.Store(nil)
		return
	}
	armed.Store(&next)
}

// Armed returns the terms each armed point was armed with, by name.
func Armed() map[string]string {
	out := map[string]string{}
	if m := armed.Load(); m != nil {
		for name, st := range *m {
			out[name] = st.text
		}
	}
	return out
}

// ArmAll arms the points of spec, name=terms pairs separated by ';' (the
// value of CAIRN_FAILPOINTS). Empty pairs are skipped. On an error nothing
// of spec is armed.
func ArmAll(spec string) error {
	add := map[string]*state{}
	for _, kv := range strings.Split(spec, ";") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, terms, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("failpoint: %q is not name=terms", kv)
		}
		st, err := prepare(strings.TrimSpace(name), strings.TrimSpace(terms))
		if err != nil {
			return err
		}
		add[strings.TrimSpace(name)] = st
	}
	if len(add) > 0 {
		store(add)
	}
	return nil
}
