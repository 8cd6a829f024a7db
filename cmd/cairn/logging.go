package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"

	"github.com/cairnkv/cairn"
)

// openLogger opens the outputs of --log-outputs and returns the logger that
// writes to them all, with the format and level of the flags, and a
// function that closes the files it opened.
func (m *Main) openLogger() (*slog.Logger, func(), error) {
	outputs, err := splitOutputs(m.Config.LogOutputs)
	if err != nil {
		return nil, nil, err
	}
	var ws []io.Writer
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	for _, o := range outputs {
		switch o {
		case "default", "stderr":
			ws = append(ws, m.stderr())
		case "stdout":
			ws = append(ws, m.stdout())
		default:
			f, err := os.OpenFile(o, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("--log-outputs: %w", err)
			}
			files = append(files, f)
			ws = append(ws, f)
		}
	}
	w := ws[0]
	if len(ws) > 1 {
		w = io.MultiWriter(ws...)
	}
	level, _ := parseLevel(m.Config.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if m.Config.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), closeAll, nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), closeAll, nil
}

// logStart writes the first lines of a member's log: what runs (cairn's
// version, the etcd API it serves, Go's version), the effective
// configuration, where the settings that are not defaults came from, and
// what ParseFlags noted.
func (m *Main) logStart(logger *slog.Logger) {
	fs := m.flags()
	value := func(name string) string { return fs.Lookup(name).Value.String() }
	fsFlags := m.loggedFlags()
	logger.Info("starting cairn", "version", cairn.Version, "etcd_api_version", cairn.APIVersion,
		"go_version", runtime.Version(), "go_os_arch", runtime.GOOS+"/"+runtime.GOARCH, "pid", os.Getpid())
	var cfg []any
	for _, name := range fsFlags {
		cfg = append(cfg, slog.String(name, value(name)))
	}
	logger.Info("configuration", cfg...)
	var cmdline, file []string
	for _, name := range fsFlags {
		switch src := m.sources[name]; src {
		case "":
		case sourceCommandLine:
			cmdline = append(cmdline, "--"+name)
		case sourceConfigFile:
			file = append(file, name)
		default:
			logger.Info("flag set from the environment", "variable", src, "flag", "--"+name, "value", value(name))
		}
	}
	if len(cmdline) > 0 {
		logger.Info("flags set on the command line", "flags", cmdline)
	}
	if m.Config.ConfigFile != "" {
		logger.Info("configuration file read; command-line flags and environment variables do not apply (as in etcd)",
			"path", m.Config.ConfigFile, "keys", file)
	}
	for _, n := range m.notes {
		logger.Log(context.Background(), n.level, n.msg, n.args...)
	}
}

// loggedFlags are the flags whose values the configuration line shows: all
// of cairn's, and etcd's others where they were set.
func (m *Main) loggedFlags() []string {
	var names []string
	for _, s := range flagSections {
		for _, n := range s.names {
			if n != "version" {
				names = append(names, n)
			}
		}
	}
	for _, e := range m.etcd {
		if m.sources[e.f.name] != "" && !slices.Contains(names, e.f.name) {
			names = append(names, e.f.name)
		}
	}
	return names
}
