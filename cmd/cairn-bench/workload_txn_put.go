package main

import (
	"bytes"
	"encoding/base64"
)

// txnPutWorkload sends a transaction with no compares whose success branch
// puts one key: POST /v3/kv/txn
// {"success": [{"request_put": {"key": k, "value": v}}]}.
var txnPutWorkload = &workload{
	name: "txn-put",
	help: "POST /v3/kv/txn, no compares, success branch puts one key",
	newOp: func(cfg *Config, value []byte) (op, error) {
		tail := []byte(`","value":"` + base64.StdEncoding.EncodeToString(value) + `"}}]}`)
		return &txnPutOp{body: jsonBody{head: []byte(`{"success":[{"request_put":{"key":"`), tail: tail}}, nil
	},
}

// noteTxnFailure counts txn answers that did not take the success branch.
const noteTxnFailure = "txn took the failure branch"

// succeededName is the quoted name of a txn answer's branch flag.
var succeededName = []byte(`"succeeded"`)

// txnPutOp is one client's txn requests.
type txnPutOp struct {
	body jsonBody
}

func (o *txnPutOp) build(key []byte) request {
	return request{path: "/v3/kv/txn", body: o.body.build(key)}
}

// check notes an answer whose succeeded is not true (the gateway omits
// false).
func (o *txnPutOp) check(body []byte) (string, error) {
	if !bytes.HasPrefix(jsonField(body, succeededName), []byte("true")) {
		return noteTxnFailure, nil
	}
	return "", nil
}
