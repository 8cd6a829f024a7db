package main

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
)

// etcdFlag is an etcd 3.4 flag that cairn takes without its meaning, so that
// etcd's command lines, environments and configuration files work here, and
// nothing they ask for is silently dropped:
//
//   - a flag for something cairn does not do yet (TLS, authentication,
//     discovery...) or never does (the v2 proxy) accepts the values that ask
//     for nothing (its etcd default, ok); any other value is refused, naming
//     the flag and why (notYet: "not implemented yet: --cert-file (TLS)");
//   - a tuning knob that has no effect on how cairn works (WAL file
//     retention) accepts any value, with a warning in the log
//     when it is not etcd's default.
//
// The flags cairn honours (the others in flags.go) are not here.
type etcdFlag struct {
	name     string
	def      string   // etcd's default, as --help shows it
	isBool   bool     // takes no value on the command line
	ok       []string // values besides def that ask for nothing cairn lacks
	notYet   string   // what is not implemented yet, for the refusal
	why      string   // why another value is refused, or has no effect
	noEffect bool     // any value is accepted, with a warning
}

func (f *etcdFlag) help() string {
	switch {
	case f.noEffect:
		return "etcd's; no effect in cairn: " + f.why
	case f.notYet != "":
		return "etcd's; not implemented yet (" + f.notYet + "): other values than the default are refused"
	}
	return "etcd's; only '" + f.def + "' is accepted: " + f.why
}

// etcdFlags are etcd 3.4's flags that cairn takes without their meaning.
var etcdFlags = []etcdFlag{
	// TLS beyond what security.go serves.
	{name: "client-crl-file", notYet: "TLS: CRLs and certificate name checks"},
	{name: "client-cert-allowed-hostname", notYet: "TLS: CRLs and certificate name checks"},
	{name: "peer-cert-allowed-cn", notYet: "TLS: CRLs and certificate name checks"},
	{name: "peer-cert-allowed-hostname", notYet: "TLS: CRLs and certificate name checks"},
	{name: "peer-crl-file", notYet: "TLS: CRLs and certificate name checks"},
	{name: "experimental-peer-skip-client-san-verification", def: "false", isBool: true, notYet: "TLS: CRLs and certificate name checks"},
	// Discovery: --initial-cluster is the way to bootstrap.
	{name: "discovery", notYet: "discovery; use --initial-cluster"},
	{name: "discovery-srv", notYet: "discovery; use --initial-cluster"},
	{name: "discovery-srv-name", notYet: "discovery; use --initial-cluster"},
	{name: "discovery-proxy", notYet: "discovery; use --initial-cluster"},
	{name: "discovery-fallback", def: "proxy", ok: []string{"exit"}, notYet: "discovery; use --initial-cluster"},
	{name: "experimental-initial-corrupt-check", def: "false", isBool: true, notYet: "corruption checks"},
	{name: "experimental-corrupt-check-time", def: "0s", ok: []string{"0"}, notYet: "corruption checks"},
	{name: "experimental-enable-lease-checkpoint", def: "false", isBool: true, notYet: "lease checkpoints"},
	// What cairn always does, or never does.
	{name: "proxy", def: "off", why: "cairn has no v2 proxy mode"},
	{name: "strict-reconfig-check", def: "true", isBool: true, why: "cairn always refuses a reconfiguration that would lose the quorum"},
	{name: "enable-grpc-gateway", def: "true", isBool: true, why: "cairn always serves the JSON gateway beside gRPC"},
	{name: "experimental-enable-v2v3", why: "cairn's v2 tree always lives in the v3 store; --v2-prefix says where"},
	{name: "debug", def: "false", isBool: true, why: "use --log-level debug"},
	{name: "metrics", def: "basic", why: "cairn serves etcd's basic metrics (docs/operations.md); extensive adds gRPC histograms, which cairn does not keep"},
	{name: "log-package-levels", why: "cairn has one level for all its packages: --log-level"},
	// Tuning with no effect here.
	{name: "pre-vote", def: "false", isBool: true, noEffect: true, why: "cairn always runs raft's pre-vote"},
	{name: "initial-election-tick-advance", def: "true", isBool: true, noEffect: true, why: "a sole voter campaigns at once; others wait for an election timeout"},
	{name: "max-snapshots", def: "5", noEffect: true, why: "cairn keeps no snapshot files beside its store"},
	{name: "max-wals", def: "5", noEffect: true, why: "cairn removes raft log segments once a snapshot covers them (--snapshot-count)"},
	{name: "backend-batch-interval", noEffect: true, why: "cairn's store batches its writes itself"},
	{name: "backend-batch-limit", def: "0", noEffect: true, why: "cairn's store batches its writes itself"},
	{name: "experimental-backend-bbolt-freelist-type", def: "array", noEffect: true, why: "cairn sets its bbolt options itself"},
	{name: "experimental-compaction-batch-limit", def: "1000", noEffect: true, why: "cairn's compaction batches itself"},
	{name: "proxy-failure-wait", def: "5000", noEffect: true, why: "cairn has no v2 proxy mode"},
	{name: "proxy-refresh-interval", def: "30000", noEffect: true, why: "cairn has no v2 proxy mode"},
	{name: "proxy-dial-timeout", def: "1000", noEffect: true, why: "cairn has no v2 proxy mode"},
	{name: "proxy-write-timeout", def: "5000", noEffect: true, why: "cairn has no v2 proxy mode"},
	{name: "proxy-read-timeout", def: "0", noEffect: true, why: "cairn has no v2 proxy mode"},
}

// etcdValue holds the value given to an etcdFlag (a flag.Value).
type etcdValue struct {
	f *etcdFlag
	v string
}

// String is the value given, or etcd's default.
func (e *etcdValue) String() string {
	if e == nil || e.f == nil {
		return ""
	}
	if e.v == "" {
		return e.f.def
	}
	return e.v
}

// Set records s; a boolean flag takes what strconv.ParseBool does.
func (e *etcdValue) Set(s string) error {
	if e.f.isBool {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errors.New("want true or false")
		}
		s = strconv.FormatBool(b)
	}
	e.v = s
	return nil
}

// IsBoolFlag lets a boolean flag go without a value (--auto-tls).
func (e *etcdValue) IsBoolFlag() bool { return e.f.isBool }

// checkEtcdFlags refuses the values of etcd's flags that ask for what
// cairn lacks, all of them at once, and notes the ones that have no effect.
func (m *Main) checkEtcdFlags() error {
	var errs []error
	for _, e := range m.etcd {
		f := e.f
		if m.sources[f.name] == "" {
			continue
		}
		switch {
		case f.noEffect && e.v != f.def:
			m.note(slog.LevelWarn, "--"+f.name+" has no effect in cairn", "value", e.v, "why", f.why, "source", m.sources[f.name])
		case f.noEffect, e.v == "" || e.v == f.def || slices.Contains(f.ok, e.v):
			// asks for nothing cairn lacks (or etcd's default, which a
			// sample configuration file spells out)
		case f.notYet != "":
			errs = append(errs, fmt.Errorf("not implemented yet: --%s (%s)%s", f.name, f.notYet, m.setBy(f.name)))
		default:
			errs = append(errs, fmt.Errorf("--%s=%s is not supported: %s%s", f.name, e.v, f.why, m.setBy(f.name)))
		}
	}
	return errors.Join(errs...)
}
