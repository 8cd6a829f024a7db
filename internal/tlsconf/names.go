package tlsconf

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// CipherSuites parses --cipher-suites: a comma-separated list of the IANA
// names etcd takes (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ...). Empty
// means nil, Go's defaults. The insecure suites Go still implements are
// accepted, as etcd accepts them; TLS 1.3 suites are refused (they are not
// configurable).
func CipherSuites(list string) ([]uint16, error) {
	byName := map[string]uint16{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if !onlyTLS13(s) {
			byName[s.Name] = s.ID
		}
	}
	var out []uint16
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		id, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("unknown cipher suite %q", name)
		}
		out = append(out, id)
	}
	return out, nil
}

func onlyTLS13(s *tls.CipherSuite) bool {
	return len(s.SupportedVersions) == 1 && s.SupportedVersions[0] == tls.VersionTLS13
}

// Version parses --tls-min-version as etcd 3.5 names versions: TLS1.2 or
// TLS1.3 ("" means TLS1.2, the default). Older versions are refused.
func Version(name string) (uint16, error) {
	switch name {
	case "", "TLS1.2":
		return tls.VersionTLS12, nil
	case "TLS1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("unknown TLS version %q: want TLS1.2 or TLS1.3", name)
}
