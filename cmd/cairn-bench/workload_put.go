package main

import "encoding/base64"

// putWorkload writes --val-size bytes to one key per request:
// POST /v3/kv/put {"key": k, "value": v}.
var putWorkload = &workload{
	name: "put",
	help: "POST /v3/kv/put of one key",
	newOp: func(cfg *Config, value []byte) (op, error) {
		tail := []byte(`","value":"` + base64.StdEncoding.EncodeToString(value) + `"}`)
		return &putOp{body: jsonBody{head: []byte(`{"key":"`), tail: tail}}, nil
	},
}

// putOp is one client's put requests.
type putOp struct {
	body jsonBody
}

func (o *putOp) build(key []byte) request {
	return request{path: "/v3/kv/put", body: o.body.build(key)}
}

// check accepts any 200 answer: the gateway reports put errors by status.
func (o *putOp) check([]byte) (string, error) { return "", nil }
