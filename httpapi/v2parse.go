package httpapi

import (
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/cairnkv/cairn/v2store"
)

// v2KeysPrefix is the path of the v2 keys API; the rest is the key.
const v2KeysPrefix = "/v2/keys"

// v2KeyRequest is one /v2/keys request parsed at the edge, with etcd
// 3.4's parameters (v2http parseKeyRequest) from the query string and the
// form body merged.
type v2KeyRequest struct {
	method    string
	path      string // clean, "/" for the root
	value     string
	hasValue  bool
	dir       bool
	prevExist *bool
	prevValue string
	prevIndex uint64
	recursive bool
	sorted    bool
	quorum    bool
	wait      bool
	waitIndex uint64
	stream    bool
	ttl       *uint64 // nil: no ttl given; 0 with ttlEmpty: "ttl=" (remove)
	ttlEmpty  bool
	refresh   bool
	noValue   bool         // noValueOnSuccess
	cond      v2Conditions // If-None-Match on GET (v2cond.go)
}

// parseV2KeyRequest parses r. Errors are etcd's answers to bad parameters,
// all with index 0 as etcd's: 210 for an unreadable form; 203 for a
// prevIndex or waitIndex that is not an unsigned integer; 209 for a
// boolean parameter that is not a boolean, and for wait on another method
// than GET; 201 for an empty prevValue; 202 for a ttl that is not an
// unsigned integer; 211 for a non-empty value with refresh, 212 for refresh without
// a ttl; 209 for a conditional header it cannot take (v2cond.go).
func parseV2KeyRequest(r *http.Request) (*v2KeyRequest, *v2store.Error) {
	f, err := parseV2Form(r)
	if err != nil {
		return nil, v2store.NewError(v2store.EcodeInvalidForm, err.Error(), 0)
	}
	q := &v2KeyRequest{method: r.Method, path: v2store.CleanPath(strings.TrimPrefix(r.URL.Path, v2KeysPrefix))}
	var e *v2store.Error
	uintParam := func(name string, dst *uint64) {
		if e != nil || !f.has(name) {
			return
		}
		v, err := strconv.ParseUint(f.get(name), 10, 64)
		if err != nil {
			e = v2store.NewError(v2store.EcodeIndexNaN, `invalid value for "`+name+`"`, 0)
			return
		}
		*dst = v
	}
	boolParam := func(name, cause string, dst *bool) {
		if e != nil || !f.has(name) {
			return
		}
		v, err := strconv.ParseBool(f.get(name))
		if err != nil {
			e = v2store.NewError(v2store.EcodeInvalidField, cause, 0)
			return
		}
		*dst = v
	}
	quoted := func(name string) string { return `invalid value for "` + name + `"` }

	uintParam("prevIndex", &q.prevIndex)
	uintParam("waitIndex", &q.waitIndex)
	boolParam("recursive", quoted("recursive"), &q.recursive)
	boolParam("sorted", quoted("sorted"), &q.sorted)
	boolParam("wait", quoted("wait"), &q.wait)
	boolParam("dir", quoted("dir"), &q.dir)
	boolParam("quorum", quoted("quorum"), &q.quorum)
	boolParam("stream", quoted("stream"), &q.stream)
	boolParam("noValueOnSuccess", quoted("noValueOnSuccess"), &q.noValue)
	if e != nil {
		return nil, e
	}
	if q.wait && r.Method != http.MethodGet {
		return nil, v2store.NewError(v2store.EcodeInvalidField, `"wait" can only be used with GET requests`, 0)
	}
	if f.has("prevValue") {
		if q.prevValue = f.get("prevValue"); q.prevValue == "" {
			return nil, v2store.NewError(v2store.EcodePrevValueRequired, `"prevValue" cannot be empty`, 0)
		}
	}
	if f.has("ttl") {
		if s := f.get("ttl"); s == "" {
			q.ttlEmpty = true
		} else {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return nil, v2store.NewError(v2store.EcodeTTLNaN, quoted("ttl"), 0)
			}
			q.ttl = &v
		}
	}
	if f.has("prevExist") {
		v, err := strconv.ParseBool(f.get("prevExist"))
		if err != nil {
			return nil, v2store.NewError(v2store.EcodeInvalidField, "invalid value for prevExist", 0)
		}
		q.prevExist = &v
	}
	if f.has("refresh") {
		v, err := strconv.ParseBool(f.get("refresh"))
		if err != nil {
			return nil, v2store.NewError(v2store.EcodeInvalidField, "invalid value for refresh", 0)
		}
		q.refresh = v
	}
	if e := parseV2Conditions(r, f, q); e != nil {
		return nil, e
	}
	q.value, q.hasValue = f.get("value"), f.has("value")
	if q.refresh {
		if q.value != "" { // etcd's Go client sends an empty value
			return nil, v2store.NewError(v2store.EcodeRefreshValue, "A value was provided on a refresh", 0)
		}
		if q.ttl == nil && !q.ttlEmpty {
			return nil, v2store.NewError(v2store.EcodeRefreshTTLRequired, "No TTL value set", 0)
		}
	}
	return q, nil
}

// unimplemented names a parameter the v2 keys API accepts in etcd but
// this member cannot serve, or "" (STYLE 9: refuse by name, never ignore):
// wait without a watch hub.
func (q *v2KeyRequest) unimplemented(canWatch bool) string {
	if q.wait && !canWatch {
		return "wait"
	}
	return ""
}

// storeRequest returns the v2store write of a PUT, POST or DELETE.
func (q *v2KeyRequest) storeRequest() *v2store.Request {
	req := &v2store.Request{
		Path:      q.path,
		Value:     q.value,
		Dir:       q.dir,
		PrevExist: q.prevExist,
		PrevValue: q.prevValue,
		PrevIndex: q.prevIndex,
		Recursive: q.recursive,
		Refresh:   q.refresh,
	}
	if q.ttl != nil {
		ttl := int64(min(*q.ttl, 1<<62)) // larger ones are refused at apply (202)
		req.TTL = &ttl
	}
	switch q.method {
	case http.MethodPut:
		req.Method = v2store.MethodPut
	case http.MethodPost:
		req.Method = v2store.MethodPost
	case http.MethodDelete:
		req.Method = v2store.MethodDelete
	}
	return req
}

// v2Redirect returns where a request for an unclean path goes, as Go's
// ServeMux (which etcd 3.4 serves v2 with) redirects it: ".." and "."
// resolved and "//" collapsed, a trailing '/' kept; "" if the path is
// clean.
func v2Redirect(u *url.URL) string {
	p := u.Path
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	if np == p {
		return ""
	}
	to := url.URL{Path: np, RawQuery: u.RawQuery}
	return to.String()
}
