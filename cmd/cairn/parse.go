package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/cairnkv/cairn"
)

// Main is one run of the cairn command.
type Main struct {
	Config Config
	// Stdout receives --help and --version, and the logs with --log-outputs
	// stdout; Stderr the logs with --log-outputs default or stderr. nil
	// means os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer

	// sources says where each flag set by ParseFlags got its value:
	// sourceCommandLine, sourceConfigFile or the environment variable's
	// name. A flag at its default is not in it.
	sources map[string]string
	// notes are what ParseFlags has to say once Run has set up logging.
	notes       []logNote
	fs          *flag.FlagSet // over Config, made by flags()
	etcd        []*etcdValue  // etcd's flags cairn takes without their meaning
	showVersion bool
	// failpoints are CAIRN_FAILPOINTS and CAIRN_FAILPOINTS_HTTP
	// (failpoints.go): test-only, not flags.
	failpoints, failpointsHTTP string
}

// flags returns the flag set over m's configuration, made once.
func (m *Main) flags() *flag.FlagSet {
	if m.fs == nil {
		m.fs = m.flagSet()
	}
	return m.fs
}

// The sources of a setting besides the environment (sources holds the
// variable's name for those).
const (
	sourceCommandLine = "command line"
	sourceConfigFile  = "config file"
)

type logNote struct {
	level slog.Level
	msg   string
	args  []any
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main { return &Main{Config: DefaultConfig()} }

// errShown is what ParseFlags returns after printing --help or --version:
// there is nothing to run, and the command exits 0.
var errShown = errors.New("help or version shown")

// ParseFlags reads the configuration, as etcd 3.4 does, from one of:
//
//   - the command line, then for every flag not on it the environment
//     (environ as os.Environ gives it): CAIRN_<FLAG>, else ETCD_<FLAG>
//     (upper case, dashes as underscores); a variable a flag overrides is
//     noted, where etcd 3.4 refuses to start;
//   - the YAML configuration file of --config-file (or CAIRN_CONFIG_FILE,
//     ETCD_CONFIG_FILE), alone: other flags are refused (etcd ignores them)
//     and environment variables ignored with a note (as etcd does).
//
// Run logs where each setting came from and the notes. --help and
// --version print to Stdout and return errShown. An error names the flag,
// variable or key at fault.
func (m *Main) ParseFlags(args, environ []string) error {
	fs := m.flags()
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		usage(m.stdout(), fs)
		return errShown
	} else if err != nil {
		return fmt.Errorf("%w (cairn --help lists the flags)", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if m.showVersion {
		printVersion(m.stdout())
		return errShown
	}
	m.sources = map[string]string{}
	fs.Visit(func(f *flag.Flag) { m.sources[f.Name] = sourceCommandLine })
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" { // empty is unset, as etcd
			env[k] = v
		}
	}
	m.failpoints, m.failpointsHTTP = env[envFailpoints], env[envFailpointsHTTP]
	// --config-file first: it decides whether the environment applies.
	if err := m.fromEnv(fs.Lookup("config-file"), env); err != nil {
		return err
	}
	if m.Config.ConfigFile != "" {
		if err := m.readConfigFile(fs); err != nil {
			return err
		}
	} else {
		var err error
		fs.VisitAll(func(f *flag.Flag) {
			if err == nil && f.Name != "version" && f.Name != "config-file" {
				err = m.fromEnv(f, env)
			}
		})
		if err != nil {
			return err
		}
	}
	m.noteUnknownEnv(fs, env)
	if m.sources["logger"] != "" {
		m.note(slog.LevelInfo, "--logger="+m.Config.Logger+" accepted: cairn logs with log/slog whatever the logger (--log-format text or json)")
	}
	if err := m.Config.Validate(); err != nil {
		return err
	}
	if m.sources["listen-client-urls"] != "" && m.sources["advertise-client-urls"] == "" {
		return errors.New("--advertise-client-urls is required when --listen-client-urls is set explicitly (as in etcd): a member listening on chosen addresses must tell clients which URLs reach it")
	}
	return m.checkEtcdFlags()
}

// EnvName is the environment variable with prefix ("ETCD" or "CAIRN") that
// mirrors a flag: "data-dir" -> "ETCD_DATA_DIR".
func EnvName(prefix, flagName string) string {
	return prefix + "_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// fromEnv sets flag f from CAIRN_<F>, else ETCD_<F>, unless the command
// line set it, and notes the variables that lose.
func (m *Main) fromEnv(f *flag.Flag, env map[string]string) error {
	var names []string
	for _, prefix := range []string{"CAIRN", "ETCD"} {
		if n := EnvName(prefix, f.Name); env[n] != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	if m.sources[f.Name] == sourceCommandLine {
		for _, n := range names {
			m.note(slog.LevelWarn, "environment variable overridden by the command line (etcd 3.4 refuses to start on this)",
				"variable", n, "flag", "--"+f.Name)
		}
		return nil
	}
	if len(names) == 2 && env[names[0]] != env[names[1]] {
		m.note(slog.LevelWarn, "environment variable overridden by its CAIRN_ twin", "variable", names[1], "by", names[0])
	}
	if err := f.Value.Set(env[names[0]]); err != nil {
		return fmt.Errorf("%s=%q: %v", names[0], env[names[0]], err)
	}
	m.sources[f.Name] = names[0]
	return nil
}

// knownEnv are variables with cairn's or etcd's prefix that are not flags.
var knownEnv = []string{
	"ETCD_UNSUPPORTED_ARCH", // etcd's check of the architecture
	"ETCD_VERSION",          // often an image's version string; --version is read from the command line only
	"CAIRN_VERSION",
	"CAIRN_REQUIRE_TOOLS", // the tests' (internal/testbin)
	envFailpoints,
	envFailpointsHTTP,
}

// noteUnknownEnv notes the ETCD_ and CAIRN_ variables that name no flag (a
// typo would otherwise go unseen; etcd warns the same way), and with a
// configuration file those that name one (ignored, as etcd ignores them).
func (m *Main) noteUnknownEnv(fs *flag.FlagSet, env map[string]string) {
	var unknown, ignored []string
	for k := range env {
		rest, ok := strings.CutPrefix(k, "ETCD_")
		if !ok {
			rest, ok = strings.CutPrefix(k, "CAIRN_")
		}
		if !ok || slices.Contains(knownEnv, k) || strings.HasPrefix(k, "CAIRN_BENCH_") {
			continue
		}
		name := strings.ToLower(strings.ReplaceAll(rest, "_", "-"))
		switch {
		case fs.Lookup(name) == nil:
			unknown = append(unknown, k)
		case m.Config.ConfigFile != "" && name != "config-file":
			ignored = append(ignored, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		m.note(slog.LevelWarn, "unrecognized environment variables: they name no flag", "variables", unknown)
	}
	if len(ignored) > 0 {
		slices.Sort(ignored)
		m.note(slog.LevelWarn, "environment variables ignored: --config-file is given (as in etcd, the file alone configures the member)", "variables", ignored)
	}
}

func (m *Main) note(level slog.Level, msg string, args ...any) {
	m.notes = append(m.notes, logNote{level, msg, args})
}

// setBy says, for an error, where flag name got its value when it was not
// the command line.
func (m *Main) setBy(name string) string {
	switch src := m.sources[name]; src {
	case "", sourceCommandLine:
		return ""
	case sourceConfigFile:
		return " (set in " + m.Config.ConfigFile + ")"
	default:
		return " (set by " + src + ")"
	}
}

// printVersion prints what --version shows, in etcd's layout.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "cairn Version: %s\netcd API Version: %s\nGo Version: %s\nGo OS/Arch: %s/%s\n",
		cairn.Version, cairn.APIVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func (m *Main) stdout() io.Writer {
	if m.Stdout == nil {
		return os.Stdout
	}
	return m.Stdout
}

func (m *Main) stderr() io.Writer {
	if m.Stderr == nil {
		return os.Stderr
	}
	return m.Stderr
}
