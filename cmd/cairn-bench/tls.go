package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// TLS: https endpoints are reached with the CA and client certificate of
// these flags (the names of etcd's benchmark tool and etcdctl v3).
func registerTLSFlags(fs *flag.FlagSet, cfg *Config) {
	fs.StringVar(&cfg.CACert, "cacert", cfg.CACert, "https endpoints: PEM file of the CA that signed the server's certificate (default: the system's roots)")
	fs.StringVar(&cfg.Cert, "cert", cfg.Cert, "https endpoints: client certificate file, for a server with --client-cert-auth")
	fs.StringVar(&cfg.Key, "key", cfg.Key, "https endpoints: the client certificate's key file")
}

// loadTLS builds c.tls when an endpoint is https; the TLS flags without an
// https endpoint are an error, as is an https endpoint for a workload whose
// streams do not speak TLS yet.
func (c *Config) loadTLS(workload string) error {
	https := false
	for _, e := range c.Endpoints {
		https = https || strings.HasPrefix(e, "https://")
	}
	if !https {
		if c.CACert != "" || c.Cert != "" || c.Key != "" {
			return errors.New("--cacert, --cert and --key apply to https endpoints only")
		}
		return nil
	}
	if workload == "watch-latency" {
		return errors.New("--endpoints: not implemented: https endpoints for watch-latency")
	}
	cfg := &tls.Config{}
	if c.CACert != "" {
		b, err := os.ReadFile(c.CACert)
		if err != nil {
			return fmt.Errorf("--cacert: %v", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(b) {
			return fmt.Errorf("--cacert: no PEM certificate in %s", c.CACert)
		}
	}
	if (c.Cert == "") != (c.Key == "") {
		return errors.New("--cert and --key go together")
	}
	if c.Cert != "" {
		pair, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			return fmt.Errorf("--cert, --key: %v", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	c.tls = cfg
	return nil
}
