package main

import "net/url"

// The v2 keys API workloads: each request names one key as the path
// /v2/keys/<key>, with etcd v2's form parameters.

// formContentType is the content type of v2 form bodies.
const formContentType = "application/x-www-form-urlencoded"

// v2Text turns the run's value into text of the same length: letters and
// digits, one per byte. v2 values are form fields and JSON strings, and
// users store text there; random bytes would measure the escaping of
// bytes that the v2 API cannot even give back (its JSON replaces invalid
// UTF-8 with U+FFFD).
func v2Text(value []byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	t := make([]byte, len(value))
	for i, b := range value {
		t[i] = alphabet[int(b)%len(alphabet)]
	}
	return string(t)
}

// v2SetWorkload writes --val-size characters (v2Text) to one key per
// request: PUT /v2/keys/<key> with the form value=<v>.
var v2SetWorkload = &workload{
	name: "v2-set",
	help: "PUT /v2/keys/<key> value=<v>, v of --val-size letters and digits (etcd v2 set)",
	newOp: func(cfg *Config, value []byte) (op, error) {
		return &v2Op{method: "PUT", form: []byte("value=" + v2Text(value))}, nil
	},
}

// v2GetWorkload reads one key per request: GET /v2/keys/<key>, with
// quorum=true under --consistency l (etcd v2's default read is local, as
// --consistency s). Run v2-set over the same keys first: a missing key is
// a 404, counted as a failure.
var v2GetWorkload = &workload{
	name:    "v2-get",
	help:    "GET /v2/keys/<key> (--consistency l: quorum=true; s: etcd v2's default local read)",
	options: []string{"consistency"},
	newOp: func(cfg *Config, _ []byte) (op, error) {
		o := &v2Op{method: "GET"}
		if cfg.Consistency == "l" {
			o.query = "?quorum=true"
		}
		return o, nil
	},
}

// v2CASWorkload compares and swaps one key per request:
// PUT /v2/keys/<key>?prevValue=<v> value=<v>. Run v2-set with the same
// --val-size over the same keys first, so that every compare holds.
var v2CASWorkload = &workload{
	name: "v2-cas",
	help: "PUT /v2/keys/<key>?prevValue=<v> value=<v> (etcd v2 compareAndSwap; run v2-set first)",
	newOp: func(cfg *Config, value []byte) (op, error) {
		v := v2Text(value) // needs no escaping
		return &v2Op{method: "PUT", query: "?prevValue=" + v, form: []byte("value=" + v)}, nil
	},
}

// v2Op is one client's v2 requests: method on /v2/keys/<key><query> with
// the form body (none if nil).
type v2Op struct {
	method string
	query  string
	form   []byte
}

func (o *v2Op) build(key []byte) request {
	r := request{method: o.method, path: "/v2/keys/" + url.PathEscape(string(key)) + o.query}
	if o.form != nil {
		r.body = append([]byte(nil), o.form...)
		r.contentType = formContentType
	}
	return r
}

// check accepts any 2xx answer: v2 reports errors by status.
func (o *v2Op) check([]byte) (string, error) { return "", nil }
