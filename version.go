// Package cairn holds what the whole of cairn shares and that has no better
// home: its version, the version of etcd's API it speaks, and the OpenAPI
// contract of its client endpoints (embedded from openapi.yaml).
package cairn

// Version is cairn's own release version, reported as "cairn" by GET /version.
const Version = "0.1.0"

// APIVersion is the etcd API version cairn mirrors (etcd 3.4's v3 gateway and
// v2 keys API). GET /version reports it as "etcdserver", and as "etcdcluster"
// unless the cluster reports another version; clients compare it with the
// version they need (etcdctl and client libraries read these two fields).
const APIVersion = "3.4.0"
