package httpapi

import "github.com/cairnkv/cairn"

// Backend is everything the HTTP API needs from a member: the v3 KV,
// maintenance status and lease services of the contract (package cairn).
// The other services (watch, cluster, maintenance operations, v2) are
// served when the Backend also implements their contract interface.
type Backend interface {
	cairn.KV
	cairn.Maintenance
	cairn.Lease
}
