package cairn

// Version is cairn's own release version, reported as "cairn" by GET /version.
const Version = "0.1.0"

// APIVersion is the etcd API version cairn mirrors (etcd 3.4's v3 gateway and
// v2 keys API). GET /version reports it as "etcdserver", and as "etcdcluster"
// unless the cluster reports another version; clients compare it with the
// version they need (etcdctl and client libraries read these two fields).
const APIVersion = "3.4.0"
