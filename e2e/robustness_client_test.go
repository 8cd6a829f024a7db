package e2e

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
)

// The v3 requests the robustness clients make, beyond put, rangeKey and
// cas (harness_test.go, linearizable_test.go). Each returns the revision
// of its answer's header.

// putLease writes key=value attached to lease (0 = none).
func (m *member) putLease(ctx context.Context, key, value string, lease int64) (int64, error) {
	var out struct {
		Header header `json:"header"`
	}
	body := map[string]string{"key": b64(key), "value": b64(value), "lease": strconv.FormatInt(lease, 10)}
	if err := m.call(ctx, "/v3/kv/put", body, &out); err != nil {
		return 0, err
	}
	return strconv.ParseInt(out.Header.Revision, 10, 64)
}

// deleteKey deletes one key and reports whether it existed.
func (m *member) deleteKey(ctx context.Context, key string) (deleted bool, rev int64, err error) {
	var out struct {
		Header  header `json:"header"`
		Deleted string `json:"deleted"`
	}
	if err := m.call(ctx, "/v3/kv/deleterange", map[string]string{"key": b64(key)}, &out); err != nil {
		return false, 0, err
	}
	rev, err = strconv.ParseInt(out.Header.Revision, 10, 64)
	return out.Deleted == "1", rev, err
}

// putAll writes every key to value in one transaction (one revision).
func (m *member) putAll(ctx context.Context, keys []string, value string) (int64, error) {
	var ops []any
	for _, k := range keys {
		ops = append(ops, map[string]any{"request_put": map[string]any{"key": b64(k), "value": b64(value)}})
	}
	var out struct {
		Header header `json:"header"`
	}
	if err := m.call(ctx, "/v3/kv/txn", map[string]any{"success": ops}, &out); err != nil {
		return 0, err
	}
	return strconv.ParseInt(out.Header.Revision, 10, 64)
}

// leaseGrant grants a lease of ttl seconds and returns its id.
func (m *member) leaseGrant(ctx context.Context, ttl int64) (int64, error) {
	var out struct {
		ID string `json:"ID"`
	}
	if err := m.call(ctx, "/v3/lease/grant", map[string]string{"TTL": strconv.FormatInt(ttl, 10)}, &out); err != nil {
		return 0, err
	}
	return strconv.ParseInt(out.ID, 10, 64)
}

// leaseRevoke revokes a lease (deleting its keys).
func (m *member) leaseRevoke(ctx context.Context, id int64) (int64, error) {
	var out struct {
		Header header `json:"header"`
	}
	if err := m.call(ctx, "/v3/lease/revoke", map[string]string{"ID": strconv.FormatInt(id, 10)}, &out); err != nil {
		return 0, err
	}
	return strconv.ParseInt(out.Header.Revision, 10, 64)
}

// rangePrefixAt reads every key under prefix as of revision rev from m's
// own store.
func (m *member) rangePrefixAt(ctx context.Context, prefix string, rev int64) (*rangeResult, error) {
	var out rangeResult
	err := m.call(ctx, "/v3/kv/range", map[string]any{"key": b64(prefix), "range_end": b64(prefixEnd(prefix)),
		"revision": strconv.FormatInt(rev, 10), "serializable": true}, &out)
	return &out, err
}

// values returns the keys and values of a range answer.
func (r *rangeResult) values() (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range r.Kvs {
		k, err := base64.StdEncoding.DecodeString(kv.Key)
		if err != nil {
			return nil, err
		}
		v, _, err := decodeValue(kv)
		if err != nil {
			return nil, err
		}
		out[string(k)] = v
	}
	return out, nil
}

// leaseNotFound reports an answer of etcd's "requested lease not found".
func leaseNotFound(err error) bool {
	return err != nil && strings.Contains(err.Error(), "requested lease not found")
}
