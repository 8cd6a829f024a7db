package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseFlagsDefaultsFollowEtcdBenchmark(t *testing.T) {
	cfg, err := ParseFlags(nil, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Workload != "put" || strings.Join(cfg.Endpoints, ",") != "http://127.0.0.1:2379" ||
		cfg.Clients != 1 || cfg.conns() != 1 || cfg.Total != 10000 || cfg.Duration != 0 ||
		cfg.KeySize != 8 || cfg.ValSize != 8 || cfg.KeySpaceSize != 1 || cfg.SequentialKeys ||
		cfg.Rate != 0 || cfg.Prefix != "" || cfg.Output != "text" || cfg.Consistency != "l" ||
		cfg.httpClient() != "raw" {
		t.Fatalf("defaults %+v", cfg)
	}
}

func TestParseFlagsForms(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		name  string
		args  []string
		env   map[string]string
		check func(Config) bool
	}{
		{"workload first", []string{"range", "--consistency", "s", "--clients", "4"}, nil,
			func(c Config) bool {
				return c.Workload == "range" && c.Consistency == "s" && c.Clients == 4 && c.conns() == 4
			}},
		{"workload last", []string{"--clients", "4", "txn-put"}, nil,
			func(c Config) bool { return c.Workload == "txn-put" && c.Clients == 4 }},
		{"workload flag", []string{"--workload", "range"}, nil,
			func(c Config) bool { return c.Workload == "range" }},
		{"endpoints and conns", []string{"--endpoints", " http://a:1/, http://b:2 ", "--clients", "8", "--conns", "2"}, nil,
			func(c Config) bool {
				return strings.Join(c.Endpoints, ",") == "http://a:1,http://b:2" && c.conns() == 2
			}},
		{"duration lifts the default total", []string{"--duration", "3s"}, nil,
			func(c Config) bool { return c.Total == 0 && c.Duration == 3*time.Second }},
		{"duration and total", []string{"--duration", "3s", "--total", "5"}, nil,
			func(c Config) bool { return c.Total == 5 && c.Duration == 3*time.Second }},
		{"environment", nil, map[string]string{"CAIRN_BENCH_KEY_SPACE_SIZE": "1000", "CAIRN_BENCH_SEQUENTIAL_KEYS": "true", "CAIRN_BENCH_WORKLOAD": "range"},
			func(c Config) bool { return c.KeySpaceSize == 1000 && c.SequentialKeys && c.Workload == "range" }},
		{"command line wins over environment", []string{"--val-size", "3"}, map[string]string{"CAIRN_BENCH_VAL_SIZE": "256"},
			func(c Config) bool { return c.ValSize == 3 }},
		{"environment duration lifts the default total", nil, map[string]string{"CAIRN_BENCH_DURATION": "1s"},
			func(c Config) bool { return c.Total == 0 && c.Duration == time.Second }},
		{"std http client", []string{"v2-set", "--http-client", "std"}, nil,
			func(c Config) bool { return c.httpClient() == "std" }},
		{"http client from the environment", nil, map[string]string{"CAIRN_BENCH_HTTP_CLIENT": "std"},
			func(c Config) bool { return c.httpClient() == "std" }},
		{"lease-keepalive uses net/http", []string{"lease-keepalive"}, nil,
			func(c Config) bool { return c.HTTPClient == "raw" && c.httpClient() == "std" }},
		{"lease-keepalive with --http-client std", []string{"lease-keepalive", "--http-client", "std"}, nil,
			func(c Config) bool { return c.httpClient() == "std" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env = tc.env
			cfg, err := ParseFlags(tc.args, getenv, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(cfg) {
				t.Fatalf("config %+v", cfg)
			}
		})
	}
}

func TestParseFlagsRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"nosuch"}, nil, `unknown workload "nosuch"`},
		{[]string{"put", "range"}, nil, "unexpected arguments"},
		{[]string{"put", "--workload", "range"}, nil, "workload given twice"},
		{[]string{"put", "--consistency", "s"}, nil, "--consistency does not apply to workload put"},
		{[]string{"txn-put"}, map[string]string{"CAIRN_BENCH_CONSISTENCY": "l"}, "--consistency does not apply to workload txn-put"},
		{[]string{"range", "--consistency", "x"}, nil, "--consistency"},
		{[]string{"--endpoints", ""}, nil, "no endpoint"},
		{[]string{"--endpoints", "127.0.0.1:2379"}, nil, "--endpoints"},
		{[]string{"--endpoints", "ftp://127.0.0.1:2379"}, nil, "only http:// and https://"},
		{[]string{"--cacert", "ca.pem"}, nil, "https endpoints only"},
		{[]string{"--endpoints", "https://127.0.0.1:2379", "--cacert", "/nonexistent/ca.pem"}, nil, "--cacert"},
		{[]string{"--endpoints", "https://127.0.0.1:2379", "--cert", "c.pem"}, nil, "--cert and --key go together"},
		{[]string{"watch-latency", "--endpoints", "https://127.0.0.1:2379"}, nil, "not implemented: https endpoints for watch-latency"},
		{[]string{"--endpoints", "http://127.0.0.1:2379/v3"}, nil, "no path"},
		{[]string{"--clients", "0"}, nil, "--clients"},
		{[]string{"--conns", "-1"}, nil, "--conns"},
		{[]string{"--endpoints", "http://a:1,http://b:2", "--clients", "2", "--conns", "1"}, nil, "cannot reach 2 endpoints"},
		{[]string{"--endpoints", "http://a:1,http://b:2", "--clients", "1"}, nil, "cannot reach 2 endpoints"},
		{[]string{"--total", "0"}, nil, "needs a --duration"},
		{[]string{"--total", "-3"}, nil, "--total"},
		{[]string{"--duration", "-1s"}, nil, "--duration"},
		{[]string{"--key-size", "0"}, nil, "--key-size"},
		{[]string{"--key-size", "4", "--key-space-size", "100000"}, nil, "cannot hold 100000 distinct keys (need 5)"},
		{[]string{"--key-space-size", "0"}, nil, "--key-space-size"},
		{[]string{"--val-size", "-1"}, nil, "--val-size"},
		{[]string{"--rate", "-5"}, nil, "--rate"},
		{[]string{"--rate", "NaN"}, nil, "--rate"},
		{[]string{"--output", "yaml"}, nil, "--output"},
		{[]string{"--timeout", "-1s"}, nil, "--timeout"},
		{[]string{"--http-client", "fasthttp"}, nil, `--http-client: "fasthttp", want raw or std`},
		{[]string{"lease-keepalive", "--http-client", "raw"}, nil, "--http-client raw does not apply to workload lease-keepalive"},
		{[]string{"--clients", "many"}, nil, "invalid value"},
		{nil, map[string]string{"CAIRN_BENCH_CLIENTS": "many"}, `CAIRN_BENCH_CLIENTS="many"`},
		{[]string{"--nosuchflag"}, nil, "not defined"},
	} {
		_, err := ParseFlags(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFlags(%q, env %v) = %v, want an error containing %q", tc.args, tc.env, err, tc.want)
		}
	}
}

func TestParseFlagsHelp(t *testing.T) {
	var out strings.Builder
	_, err := ParseFlags([]string{"-h"}, nil, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"put", "range", "txn-put", "CAIRN_BENCH_", "-key-space-size"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}
