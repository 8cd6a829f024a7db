package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unsafe"
)

// v2Form is the form of a v2 keys request: the body's pairs, then the query
// string's, in order, as net/http's Request.Form holds them (so get gives
// the body's value over the query's, as Form.Get does).
type v2Form struct {
	pairs []v2Pair
}

type v2Pair struct{ key, value string }

// has reports whether the form names the parameter (possibly empty).
func (f *v2Form) has(name string) bool {
	for i := range f.pairs {
		if f.pairs[i].key == name {
			return true
		}
	}
	return false
}

// get returns the parameter's first value, "" if it is not given.
func (f *v2Form) get(name string) string {
	for i := range f.pairs {
		if f.pairs[i].key == name {
			return f.pairs[i].value
		}
	}
	return ""
}

// parseV2Form reads r's form as Request.ParseForm would: for POST, PUT and
// PATCH a body of type application/x-www-form-urlencoded, then the query
// string. The common requests (that content type exactly or none, '&'
// separators, valid escapes) are parsed here without net/http's maps; any
// other request goes through ParseForm itself, so that its answers and
// error messages stay net/http's (a read error, such as the body limit,
// is returned as ParseForm returns it).
func parseV2Form(r *http.Request) (*v2Form, error) {
	f := &v2Form{pairs: make([]v2Pair, 0, 4)}
	var body []byte
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		switch r.Header.Get("Content-Type") {
		case "":
			// ParseForm takes it for application/octet-stream: no form.
		case "application/x-www-form-urlencoded":
			b, err := readBody(r)
			if err != nil {
				return nil, err
			}
			body = b
			// The form's strings share the body's bytes, which nothing
			// writes to again.
			if len(b) > 0 && !f.add(unsafe.String(&b[0], len(b))) {
				return parseV2FormSlow(r, body)
			}
		default:
			return parseV2FormSlow(r, nil)
		}
	}
	if !f.add(r.URL.RawQuery) {
		return parseV2FormSlow(r, body)
	}
	return f, nil
}

// readBody reads r's whole body: into one buffer of the announced length
// when the client gave one (the body limit is already checked against
// it), else as io.ReadAll does.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength <= 0 {
		return io.ReadAll(r.Body)
	}
	b := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, b); err != nil {
		return nil, err // a short body: net/http's own io.ErrUnexpectedEOF
	}
	return b, nil
}

// add appends the pairs of the encoded form s; false if s needs
// url.ParseQuery's judgement (a ';' separator, a bad escape).
func (f *v2Form) add(s string) bool {
	for s != "" {
		var seg string
		seg, s, _ = strings.Cut(s, "&")
		if strings.IndexByte(seg, ';') >= 0 {
			return false
		}
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		var ok bool
		if k, ok = unescapeQuery(k); !ok {
			return false
		}
		if v, ok = unescapeQuery(v); !ok {
			return false
		}
		f.pairs = append(f.pairs, v2Pair{k, v})
	}
	return true
}

func unescapeQuery(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}

// parseV2FormSlow parses r with Request.ParseForm; body, if not nil, is
// the body already read.
func parseV2FormSlow(r *http.Request, body []byte) (*v2Form, error) {
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	f := &v2Form{}
	// Form lists the body's values before the query's under each name; the
	// order between names does not matter to get and has.
	for k, vs := range r.Form {
		for _, v := range vs {
			f.pairs = append(f.pairs, v2Pair{k, v})
		}
	}
	return f, nil
}
