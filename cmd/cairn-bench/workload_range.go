package main

import "bytes"

// rangeWorkload reads one key per request: POST /v3/kv/range {"key": k},
// with "serializable": true under --consistency s.
var rangeWorkload = &workload{
	name:    "range",
	help:    "POST /v3/kv/range of one key (--consistency l|s)",
	options: []string{"consistency"},
	newOp: func(cfg *Config, _ []byte) (op, error) {
		tail := `"}`
		if cfg.Consistency == "s" {
			tail = `","serializable":true}`
		}
		return &rangeOp{body: jsonBody{head: []byte(`{"key":"`), tail: []byte(tail)}}, nil
	},
}

// noteEmptyRange counts range answers without kvs.
const noteEmptyRange = "empty range (key absent)"

// kvsName is the quoted name of a range answer's key-values.
var kvsName = []byte(`"kvs"`)

// rangeOp is one client's range requests.
type rangeOp struct {
	body jsonBody
}

func (o *rangeOp) build(key []byte) request {
	return request{path: "/v3/kv/range", body: o.body.build(key)}
}

// check notes an answer with no kvs (the gateway omits an empty list).
func (o *rangeOp) check(body []byte) (string, error) {
	v := jsonField(body, kvsName)
	if len(v) == 0 || v[0] != '[' || bytes.HasPrefix(bytes.TrimLeft(v[1:], " \t\r\n"), []byte("]")) {
		return noteEmptyRange, nil
	}
	return "", nil
}
