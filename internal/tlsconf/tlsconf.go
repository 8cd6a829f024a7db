// Package tlsconf turns etcd's TLS flags (--cert-file, --key-file,
// --trusted-ca-file, --client-cert-auth, --cipher-suites,
// --tls-min-version, and the --peer-* set) into the tls.Config of a
// listener and of each connection a member opens to a peer.
//
// The files are re-read when they change, so certificates rotate without a
// restart: every new connection first looks at the files (one stat each)
// and loads them again when one is another file (renamed over the old
// one), or its size or modification time moved. A connection already open keeps the certificate it was made with.
// A change that does not load (a certificate replaced before its key, a
// half-written file) keeps the previous certificates, logs why, and is
// tried again at the next change of the files.
//
// As etcd 3.4, a trusted CA file alone already makes the listener require
// a client certificate that the CA signed; --client-cert-auth without a CA
// file is refused (there is nothing to check the certificate against).
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// Options are one set of TLS flags: the client set or the peer set.
type Options struct {
	// CertFile and KeyFile are the certificate this side presents, as a
	// server and (for peers) as a client. Both or neither.
	CertFile, KeyFile string
	// TrustedCAFile is the PEM file of the CAs that sign the certificates
	// of the other side: clients (and peers) connecting to this listener,
	// and the peers this member connects to. Empty: no client certificate
	// is asked for, and peers are checked against the system's roots.
	TrustedCAFile string
	// ClientCertAuth requires a client certificate signed by TrustedCAFile
	// (which must be set).
	ClientCertAuth bool
	// SkipVerify makes connections opened with ClientConfig accept any
	// server certificate: auto TLS, whose certificates nobody signed.
	SkipVerify bool
	// CipherSuites are the TLS 1.2 cipher suites allowed; nil means Go's
	// defaults. TLS 1.3 suites are not configurable (Go's rule).
	CipherSuites []uint16
	// MinVersion is the oldest TLS version accepted; 0 means TLS 1.2.
	MinVersion uint16
	// Logger receives a line per reload and per failed reload; nil means
	// slog.Default().
	Logger *slog.Logger
	// HTTP2 makes the listener offer HTTP/2 (ALPN "h2") before HTTP/1.1:
	// the client listener, where etcd's gRPC API and the JSON API share
	// the port. Peers speak HTTP/1.1 only.
	HTTP2 bool
}

// Files is one set of certificate files, loaded once by Load and again
// whenever they change. Its methods are safe for concurrent use.
type Files struct {
	opts Options
	log  *slog.Logger

	mu    sync.Mutex
	seen  stamps // of the files the last load attempt read
	state *state // of the last load that succeeded
}

// state is what one successful load produced.
type state struct {
	cert   *tls.Certificate // nil without CertFile
	pool   *x509.CertPool   // nil without TrustedCAFile
	server *tls.Config      // for the listener, built from cert and pool
}

// stamps are what tells whether the files changed: each one's identity
// (a file renamed over it is another file), size and modification time;
// nil for a file not configured, or that cannot be read.
type stamps [3]os.FileInfo

func (a stamps) same(b stamps) bool {
	for i := range a {
		switch {
		case a[i] == nil || b[i] == nil:
			if a[i] != b[i] {
				return false
			}
		case !os.SameFile(a[i], b[i]) || a[i].Size() != b[i].Size() || !a[i].ModTime().Equal(b[i].ModTime()):
			return false
		}
	}
	return true
}

// Load reads the files of opts and returns them, or why they do not make a
// usable configuration.
func Load(opts Options) (*Files, error) {
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		return nil, errors.New("a certificate file needs its key file, and a key file its certificate")
	}
	if opts.ClientCertAuth && opts.TrustedCAFile == "" {
		return nil, errors.New("client certificate authentication needs a trusted CA file")
	}
	if opts.MinVersion == 0 {
		opts.MinVersion = tls.VersionTLS12
	}
	if opts.MinVersion == tls.VersionTLS13 && len(opts.CipherSuites) > 0 {
		return nil, errors.New("cipher suites cannot be set when only TLS 1.3 is allowed (TLS 1.3 suites are not configurable)")
	}
	f := &Files{opts: opts, log: opts.Logger}
	if f.log == nil {
		f.log = slog.Default()
	}
	f.seen = f.stamps()
	st, err := f.load()
	if err != nil {
		return nil, err
	}
	f.state = st
	return f, nil
}

// ServerConfig returns the configuration of a TLS listener: each
// handshake gets the certificates loaded from the files as they are then.
// Connections speak HTTP/1.1 (ALPN "http/1.1"), or HTTP/2 too with
// Options.HTTP2.
func (f *Files) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: f.opts.MinVersion,
		NextProtos: f.serverProtos(),
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return f.current().server, nil
		},
	}
}

// serverProtos are the ALPN protocols a listener offers, best first.
func (f *Files) serverProtos() []string {
	if f.opts.HTTP2 {
		return []string{"h2", "http/1.1"}
	}
	return []string{"http/1.1"}
}

// ClientConfig returns the configuration of one new connection to a
// server named serverName (a host name or an IP address, checked against
// the server's certificate): the current certificate as the client's, the
// current CAs as the roots (the system's without a CA file).
func (f *Files) ClientConfig(serverName string) *tls.Config {
	st := f.current()
	cfg := &tls.Config{
		ServerName:         serverName,
		RootCAs:            st.pool,
		MinVersion:         f.opts.MinVersion,
		CipherSuites:       f.opts.CipherSuites,
		InsecureSkipVerify: f.opts.SkipVerify,
		NextProtos:         []string{"http/1.1"},
	}
	if st.cert != nil {
		// Presented whatever CAs the server names (Go would otherwise send
		// none when they do not match), so that a refused peer is told its
		// certificate is not trusted rather than missing.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return st.cert, nil }
	}
	return cfg
}

// current returns the state for a new connection, loading the files again
// first if they changed since the last attempt.
func (f *Files) current() *state {
	now := f.stamps()
	f.mu.Lock()
	defer f.mu.Unlock()
	if now.same(f.seen) {
		return f.state
	}
	f.seen = now
	st, err := f.load()
	if err != nil {
		f.log.Warn("TLS files changed but do not load; keeping the previous ones", "cert", f.opts.CertFile, "ca", f.opts.TrustedCAFile, "err", err)
		return f.state
	}
	f.log.Info("TLS files reloaded", "cert", f.opts.CertFile, "ca", f.opts.TrustedCAFile)
	f.state = st
	return st
}

func (f *Files) stamps() stamps {
	var out stamps
	for i, name := range []string{f.opts.CertFile, f.opts.KeyFile, f.opts.TrustedCAFile} {
		if name == "" {
			continue
		}
		if fi, err := os.Stat(name); err == nil {
			out[i] = fi
		}
	}
	return out
}

// load reads the files and builds the listener's configuration.
func (f *Files) load() (*state, error) {
	st := &state{}
	if f.opts.CertFile != "" {
		c, err := tls.LoadX509KeyPair(f.opts.CertFile, f.opts.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading %s and %s: %w", f.opts.CertFile, f.opts.KeyFile, err)
		}
		st.cert = &c
	}
	if f.opts.TrustedCAFile != "" {
		b, err := os.ReadFile(f.opts.TrustedCAFile)
		if err != nil {
			return nil, err
		}
		st.pool = x509.NewCertPool()
		if !st.pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("%s: no PEM certificate in it", f.opts.TrustedCAFile)
		}
	}
	st.server = &tls.Config{
		MinVersion:   f.opts.MinVersion,
		CipherSuites: f.opts.CipherSuites,
		NextProtos:   f.serverProtos(),
		ClientCAs:    st.pool,
	}
	if st.cert != nil {
		st.server.Certificates = []tls.Certificate{*st.cert}
	}
	if st.pool != nil {
		st.server.ClientAuth = tls.RequireAndVerifyClientCert // etcd 3.4: a CA file alone requires it
	}
	return st, nil
}
