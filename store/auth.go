package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The auth state's records (package auth) live in three buckets of the
// store file, written with the rest of their batch, so that an auth change
// and the applied index reach the disk in one bbolt transaction and a
// snapshot of the store (the file itself) carries users and roles along.
// The store does not read the records' values: package auth owns their
// bytes (auth/doc.go).

// AuthTable names one of the auth buckets.
type AuthTable uint8

// The auth buckets: AuthMeta holds named fields (enabled, revision);
// AuthUsers one record per user, keyed by name; AuthRoles one record per
// role, keyed by name.
const (
	AuthMeta AuthTable = iota
	AuthUsers
	AuthRoles
	authTables
)

// authBuckets are the bucket names of the auth tables, as etcd names its
// own ("auth", "authUsers", "authRoles").
var authBuckets = [authTables][]byte{
	AuthMeta:  []byte("auth"),
	AuthUsers: []byte("authUsers"),
	AuthRoles: []byte("authRoles"),
}

// createAuthBuckets creates the auth buckets a file lacks (files written
// before auth existed have none).
func createAuthBuckets(tx *bolt.Tx) error {
	for _, name := range authBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// StageAuth writes key = value in an auth table with the batch (nil value:
// delete the key). It changes no revision and fails only on a bad table.
func (b *Batch) StageAuth(table AuthTable, key, value []byte) error {
	if err := b.usable(); err != nil {
		return err
	}
	if table >= authTables {
		return fmt.Errorf("store: no auth table %d", table)
	}
	b.stageWrite(authBuckets[table], bytes.Clone(key), bytes.Clone(value))
	return nil
}

// ForEachAuth calls fn with every key and value of an auth table, in key
// order, as of the last flush: call it on a store just opened (Open
// flushes nothing later than what it read), before any batch. The slices
// are valid only during the call.
func (s *Store) ForEachAuth(table AuthTable, fn func(key, value []byte) error) error {
	if table >= authTables {
		return fmt.Errorf("store: no auth table %d", table)
	}
	return s.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(authBuckets[table])
		if bk == nil {
			return nil
		}
		return bk.ForEach(fn)
	})
}
