package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/cairnkv/cairn/internal/tlsconf"
)

// SecurityFlags are etcd's TLS flags and its origin limits (--cors,
// --host-whitelist); docs/security.md tells how to use them.
type SecurityFlags struct {
	CertFile, KeyFile, TrustedCAFile             string // the client listeners' TLS
	ClientCertAuth, AutoTLS                      bool
	PeerCertFile, PeerKeyFile, PeerTrustedCAFile string // the peer listeners' TLS, and the member's as a peer's client
	PeerClientCertAuth, PeerAutoTLS              bool
	CipherSuites                                 string // both sets: comma-separated IANA names
	TLSMinVersion                                string // both sets: TLS1.2 or TLS1.3 (etcd 3.5's flag)
	CORS                                         string // comma-separated origins, or *
	HostWhitelist                                string // comma-separated host names, or *
}

// defaultSecurity is etcd's: no TLS, every origin and host allowed.
func defaultSecurity() SecurityFlags {
	return SecurityFlags{TLSMinVersion: "TLS1.2", CORS: "*", HostWhitelist: "*"}
}

func (s *SecurityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.CertFile, "cert-file", s.CertFile, "path to the client server TLS cert file")
	fs.StringVar(&s.KeyFile, "key-file", s.KeyFile, "path to the client server TLS key file")
	fs.StringVar(&s.TrustedCAFile, "trusted-ca-file", s.TrustedCAFile, "path to the client server TLS trusted CA cert file; clients must then present a certificate it signed (as etcd 3.4)")
	fs.BoolVar(&s.ClientCertAuth, "client-cert-auth", s.ClientCertAuth, "require a client certificate signed by --trusted-ca-file")
	fs.BoolVar(&s.AutoTLS, "auto-tls", s.AutoTLS, "client TLS with a generated self-signed certificate (when --cert-file is not given)")
	fs.StringVar(&s.PeerCertFile, "peer-cert-file", s.PeerCertFile, "path to the peer server TLS cert file, also presented to other members")
	fs.StringVar(&s.PeerKeyFile, "peer-key-file", s.PeerKeyFile, "path to the peer server TLS key file")
	fs.StringVar(&s.PeerTrustedCAFile, "peer-trusted-ca-file", s.PeerTrustedCAFile, "path to the peer server TLS trusted CA file; peers must then present a certificate it signed")
	fs.BoolVar(&s.PeerClientCertAuth, "peer-client-cert-auth", s.PeerClientCertAuth, "require a peer certificate signed by --peer-trusted-ca-file")
	fs.BoolVar(&s.PeerAutoTLS, "peer-auto-tls", s.PeerAutoTLS, "peer TLS with a generated self-signed certificate (when --peer-cert-file is not given); peers' certificates are not verified")
	fs.StringVar(&s.CipherSuites, "cipher-suites", s.CipherSuites, "comma-separated list of TLS 1.2 cipher suites for client and peer connections (default: Go's)")
	fs.StringVar(&s.TLSMinVersion, "tls-min-version", s.TLSMinVersion, "minimum TLS version for client and peer connections: TLS1.2 or TLS1.3")
	fs.StringVar(&s.CORS, "cors", s.CORS, "comma-separated origins allowed by CORS (scheme://host[:port]), or * for any; writes from other origins are refused")
	fs.StringVar(&s.HostWhitelist, "host-whitelist", s.HostWhitelist, "comma-separated host names accepted in the Host header of plain-HTTP client requests, or * for any")
}

// validateSecurity checks the values; the files are read later, by
// loadTLS.
func (c *Config) validateSecurity() error {
	s := &c.Security
	suites, err := tlsconf.CipherSuites(s.CipherSuites)
	if err != nil {
		return fmt.Errorf("--cipher-suites: %w", err)
	}
	v, err := tlsconf.Version(s.TLSMinVersion)
	if err != nil {
		return fmt.Errorf("--tls-min-version: %w", err)
	}
	if v == tls.VersionTLS13 && len(suites) > 0 {
		return errors.New("--cipher-suites cannot be set with --tls-min-version=TLS1.3 (TLS 1.3 suites are not configurable)")
	}
	for _, set := range []struct {
		prefix, urls, cert, key, ca string
		auth, auto                  bool
	}{
		{"", c.ListenClientURLs, s.CertFile, s.KeyFile, s.TrustedCAFile, s.ClientCertAuth, s.AutoTLS},
		{"peer-", c.ListenPeerURLs, s.PeerCertFile, s.PeerKeyFile, s.PeerTrustedCAFile, s.PeerClientCertAuth, s.PeerAutoTLS},
	} {
		if (set.cert == "") != (set.key == "") {
			return fmt.Errorf("--%scert-file and --%skey-file go together", set.prefix, set.prefix)
		}
		if set.auth && set.ca == "" {
			return fmt.Errorf("--%sclient-cert-auth needs --%strusted-ca-file", set.prefix, set.prefix)
		}
		urls, _ := parseURLs(set.urls)
		for _, u := range urls {
			if u.Scheme == "https" && set.cert == "" && !set.auto {
				// etcd's message
				kind := map[string]string{"": "client", "peer-": "peer"}[set.prefix]
				return fmt.Errorf("TLS key/cert (--%scert-file, --%skey-file) must be provided for %s url %s with HTTPS scheme", set.prefix, set.prefix, kind, u)
			}
		}
	}
	if _, err := parseOrigins(s.CORS); err != nil {
		return fmt.Errorf("--cors: %w", err)
	}
	for _, h := range listFlag(s.HostWhitelist) {
		if h != "*" && (strings.ContainsAny(h, "/: ") || h == "") {
			return fmt.Errorf("--host-whitelist: %q is not a host name", h)
		}
	}
	return nil
}

// parseOrigins reads --cors: "*" or origins scheme://host[:port] (a
// trailing / is dropped). Unlike etcd 3.4, which wants a port in every
// origin, an origin on a default port is written as a browser sends it,
// without one.
func parseOrigins(list string) ([]string, error) {
	var out []string
	for _, o := range listFlag(list) {
		if o == "*" {
			out = append(out, o)
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("%q is not an origin (scheme://host[:port]) or *", o)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out, nil
}

// origins is --cors for httpapi.Config.
func (s *SecurityFlags) origins() []string {
	o, _ := parseOrigins(s.CORS)
	return o
}

// listFlag splits a list flag: items separated by commas (spaces around
// them ignored; no item holds one).
func listFlag(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

// memberTLS is the TLS of one run: the files of each set, nil for a set
// not configured.
type memberTLS struct {
	client, peer *tlsconf.Files
}

// loadTLS reads the certificate files of both sets, making auto TLS
// certificates in <data-dir>/fixtures/{client,peer} first when asked to
// (for the hosts of the listen and advertised URLs; ports do not matter).
// Run calls it before it opens the listeners.
func (c *Config) loadTLS(logger *slog.Logger) (memberTLS, error) {
	s := &c.Security
	suites, _ := tlsconf.CipherSuites(s.CipherSuites)
	minVersion, _ := tlsconf.Version(s.TLSMinVersion)
	var out memberTLS
	for _, set := range []struct {
		name                    string
		cert, key, ca           string
		auth, auto              bool
		listen, advertise       string
		files                   **tlsconf.Files
		certFlag, listenURLFlag string
	}{
		{"client", s.CertFile, s.KeyFile, s.TrustedCAFile, s.ClientCertAuth, s.AutoTLS, c.ListenClientURLs, c.AdvertiseClientURLs, &out.client, "--cert-file", "--listen-client-urls"},
		{"peer", s.PeerCertFile, s.PeerKeyFile, s.PeerTrustedCAFile, s.PeerClientCertAuth, s.PeerAutoTLS, c.ListenPeerURLs, c.InitialAdvertisePeerURLs, &out.peer, "--peer-cert-file", "--listen-peer-urls"},
	} {
		skipVerify := false
		if set.auto && set.cert != "" {
			logger.Warn("ignoring auto TLS: certificate files are given", "set", set.name, "flag", set.certFlag)
		} else if set.auto {
			hosts := urlHosts(set.listen + "," + set.advertise)
			var err error
			set.cert, set.key, err = tlsconf.SelfSigned(filepath.Join(c.DataDir, "fixtures", set.name), hosts)
			if err != nil {
				return out, fmt.Errorf("auto TLS (%s): %w", set.name, err)
			}
			skipVerify = true // nobody signed the other members' certificates either
			logger.Info("auto TLS: self-signed certificate", "set", set.name, "cert", set.cert, "hosts", hosts)
		}
		if set.cert == "" && set.ca == "" {
			continue
		}
		if !hasHTTPS(set.listen) && set.name == "client" {
			logger.Warn("client URLs are http: the TLS files are not used to serve", "flag", set.listenURLFlag)
		}
		f, err := tlsconf.Load(tlsconf.Options{
			CertFile: set.cert, KeyFile: set.key, TrustedCAFile: set.ca, ClientCertAuth: set.auth,
			SkipVerify: skipVerify, CipherSuites: suites, MinVersion: minVersion,
			Logger: logger.With("tls", set.name), HTTP2: set.name == "client",
		})
		if err != nil {
			return out, fmt.Errorf("%s TLS: %w", set.name, err)
		}
		*set.files = f
	}
	return out, nil
}

// peerClient is what the member uses to reach https peers; nil without
// peer TLS files.
func (t memberTLS) peerClient() func(string) *tls.Config {
	if t.peer == nil {
		return nil
	}
	return t.peer.ClientConfig
}

func hasHTTPS(urls string) bool {
	us, _ := parseURLs(urls)
	for _, u := range us {
		if u.Scheme == "https" {
			return true
		}
	}
	return false
}

// urlHosts returns the distinct hosts of a comma list of URLs.
func urlHosts(urls string) []string {
	us, _ := parseURLs(urls)
	var out []string
	seen := map[string]bool{}
	for _, u := range us {
		if h := u.Hostname(); !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// listen opens the listener of URL u: TLS with files' configuration for an
// https URL.
func listen(u *url.URL, files *tlsconf.Files) (net.Listener, error) {
	l, err := net.Listen("tcp", u.Host)
	if err != nil || u.Scheme != "https" {
		return l, err
	}
	return &tlsListener{Listener: l, cfg: files.ServerConfig()}, nil
}

// tlsListener is tls.NewListener's, with a type listenerURL recognises.
type tlsListener struct {
	net.Listener
	cfg *tls.Config
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(c, l.cfg), nil
}

// listenerURL is the URL a listener serves: http:// or https:// and its
// address.
func listenerURL(l net.Listener) string {
	if _, ok := l.(*tlsListener); ok {
		return "https://" + l.Addr().String()
	}
	return "http://" + l.Addr().String()
}
