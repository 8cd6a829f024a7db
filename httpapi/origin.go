package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
)

// The origin limits every request passes before routing, as etcd's
// access controller (etcd 3.4 embed/serve.go), with one addition:
//
//   - --host-whitelist (Config.HostWhitelist): a plain-HTTP request whose
//     Host (without its port) is not listed is refused with etcd's 421 and
//     text, which guards against DNS rebinding (CVE-2018-5702: a page on
//     evil.example whose name now resolves to 127.0.0.1). HTTPS requests
//     are not checked, as in etcd: the certificate names the host.
//   - --cors (Config.CORS): a listed Origin gets Access-Control-Allow-Origin
//     (its own value, or * when every origin is allowed) and etcd's
//     Allow-Methods and Allow-Headers; OPTIONS is answered 200 before
//     routing, with or without them. When not every origin is allowed the
//     answer varies with the Origin, and says so (Vary: Origin; etcd 3.4
//     does not).
//   - cairn's addition: with --cors set, a state-changing request (any
//     method but GET, HEAD and OPTIONS) from an Origin that is neither listed
//     nor this server's own is refused with 403 and not carried out. A
//     browser sends a "simple" cross-origin POST (a form, or text/plain)
//     without asking first; etcd 3.4 carries it out and only the reading of
//     the answer is blocked. Requests without an Origin (curl, etcdctl, Go
//     clients) are not concerned.

// hostRefusedText is etcd 3.4's answer to a Host not in --host-whitelist
// (which http.Error ends with one more newline).
const hostRefusedText = `
etcd received your request, but the Host header was unrecognized.

To fix this, choose one of the following options:
- Enable TLS, then any HTTPS request will be allowed.
- Add the hostname you want to use to the whitelist in settings.
  - e.g. etcd --host-whitelist %q

This requirement has been added to help prevent "DNS Rebinding" attacks (CVE-2018-5702).
`

var headerVaryOrigin = []string{"Origin"}

// originPolicy is what --cors and --host-whitelist allow.
type originPolicy struct {
	anyOrigin bool
	origins   map[string]bool
	anyHost   bool
	hosts     map[string]bool
}

// newOriginPolicy reads the lists: nil, empty or holding "*" allows all.
func newOriginPolicy(cors, hosts []string) originPolicy {
	p := originPolicy{origins: map[string]bool{}, hosts: map[string]bool{}}
	p.anyOrigin = len(cors) == 0
	for _, o := range cors {
		p.anyOrigin = p.anyOrigin || o == "*"
		p.origins[o] = true
	}
	p.anyHost = len(hosts) == 0
	for _, h := range hosts {
		p.anyHost = p.anyHost || h == "*"
		p.hosts[h] = true
	}
	return p
}

// withOriginLimits applies the limits above before next.
func (a *api) withOriginLimits(next http.Handler) http.Handler {
	p := &a.origins
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil && !p.anyHost {
			if host := hostname(r.Host); !p.hosts[host] {
				a.log.Warn("refused an HTTP request to prevent DNS rebinding attacks", "host", host)
				writeText(w, http.StatusMisdirectedRequest, fmt.Sprintf(hostRefusedText, host)+"\n")
				return
			}
		}
		h := w.Header()
		allowed := true
		if p.anyOrigin {
			h["Access-Control-Allow-Origin"] = headerAnyOrig
		} else {
			h["Vary"] = headerVaryOrigin
			origin := r.Header.Get("Origin")
			switch {
			case p.origins[origin]:
				h.Set("Access-Control-Allow-Origin", origin)
			case origin != "" && !safeMethod(r.Method) && !sameOrigin(origin, r):
				a.log.Info("refused a write from an origin not in --cors", "origin", origin, "method", r.Method, "path", r.URL.Path)
				writeText(w, http.StatusForbidden, fmt.Sprintf("cross-origin request refused: origin %q is not allowed by --cors\n", origin))
				return
			default:
				allowed = false
			}
		}
		if allowed {
			h["Access-Control-Allow-Methods"] = headerCORSMeth
			h["Access-Control-Allow-Headers"] = headerCORSHead
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostname is a Host header without its port, as etcd compares it.
func hostname(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin reports whether origin is the server r was sent to (a page it
// served itself): same scheme and host:port.
func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return u.Scheme == scheme && u.Host == r.Host
}
