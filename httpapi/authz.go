package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/cairnkv/cairn"
)

// Who may call what. Every route is registered with a policy (http.go);
// guard enforces it before the handler runs, and the routes whose answer
// depends on the keys in the body (policyKeys) check them, once, right
// after decoding (a.permitted, a.permittedTxn): etcd's rules, mirrored from
// etcd 3.4's server/etcdserver/apply_auth.go and v3rpc's auth wrappers.
// While auth is off (or the backend has no Authorizer) nothing is checked
// and nothing is allocated.

// policy is what a route asks of the requester while auth is on.
type policy uint8

const (
	// policyPublic: anyone (authenticate, status, health).
	policyPublic policy = iota
	// policyUser: any user (lease grant and keepalive, member list).
	policyUser
	// policyAdmin: a user with the root role (compaction, maintenance,
	// membership changes, auth management).
	policyAdmin
	// policyKeys: the handler checks the keys of the request (a.permitted).
	policyKeys
	// policyAuthRead: the user itself or an admin (user/get, role/get, as
	// etcd lets a user read itself and the roles it holds).
	policyAuthRead
)

// requesterKey keys the cairn.AuthInfo of the request in its context.
type requesterKey struct{}

// requester returns who makes the request; ok is false when auth was off
// when the request came (nothing to check).
func requester(ctx context.Context) (info cairn.AuthInfo, ok bool) {
	info, ok = ctx.Value(requesterKey{}).(cairn.AuthInfo)
	return info, ok
}

// identify finds the requester of r: the token of its Authorization header
// (etcd's raw form, or "Bearer <token>"); else the CN of its verified
// client certificate (--client-cert-auth); else nobody. A token that does
// not resolve is an error, certificate or not, as etcd.
func (a *api) identify(r *http.Request) (cairn.AuthInfo, error) {
	if tok := r.Header.Get("Authorization"); tok != "" {
		tok = strings.TrimPrefix(tok, "Bearer ")
		return a.authz.AuthInfoFromToken(tok)
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		if cn := r.TLS.VerifiedChains[0][0].Subject.CommonName; cn != "" {
			return a.authz.AuthInfoFromUser(cn), nil
		}
	}
	return cairn.AuthInfo{}, nil
}

// guard enforces p on h's requests while auth is on: it identifies the
// requester, refuses what p does not allow with etcd's v3 error, and hands
// the requester to h in the request's context.
func (a *api) guard(p policy, h http.HandlerFunc) http.HandlerFunc {
	if a.authz == nil {
		return h
	}
	if p == policyPublic {
		return h // no identity needed: a bad token does not matter either
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.authz.AuthEnabled() {
			h(w, r)
			return
		}
		info, err := a.identify(r)
		if err == nil {
			err = a.allowed(p, info)
		}
		if err != nil {
			finishBody(w, r.Body)
			a.writeV3Error(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), requesterKey{}, info)))
	}
}

// allowed applies a policy that does not depend on the request's body.
func (a *api) allowed(p policy, info cairn.AuthInfo) error {
	switch p {
	case policyAdmin:
		return a.authz.CheckAdmin(info)
	case policyUser, policyKeys, policyAuthRead:
		if info.User == "" {
			return cairn.ErrUserEmpty
		}
	}
	return nil
}

// permitted checks that the requester may do want on the key or [key,
// rangeEnd).
func (a *api) permitted(ctx context.Context, want cairn.PermType, key, rangeEnd []byte) error {
	info, ok := requester(ctx)
	if !ok {
		return nil
	}
	return a.authz.CheckPermitted(info, want, key, rangeEnd)
}

// permittedPut checks a put: write on the key, read with prev_kv, and
// with a lease write on every key already attached to it (etcd's
// checkLeasePuts: the lease's revoke will delete them all).
func (a *api) permittedPut(ctx context.Context, req *cairn.PutRequest) error {
	if err := a.permitted(ctx, cairn.PermWrite, req.Key, nil); err != nil {
		return err
	}
	if req.PrevKV {
		if err := a.permitted(ctx, cairn.PermRead, req.Key, nil); err != nil {
			return err
		}
	}
	if req.Lease != cairn.NoLease {
		return a.permittedLeaseKeys(ctx, req.Lease, cairn.PermWrite)
	}
	return nil
}

// permittedDelete checks a delete: write on the range, and read with
// prev_kv.
func (a *api) permittedDelete(ctx context.Context, req *cairn.DeleteRangeRequest) error {
	if err := a.permitted(ctx, cairn.PermWrite, req.Key, req.RangeEnd); err != nil || !req.PrevKV {
		return err
	}
	return a.permitted(ctx, cairn.PermRead, req.Key, req.RangeEnd)
}

// permittedTxn checks a transaction as etcd does: read on every compare's
// keys, and every operation of both branches, nested transactions too.
func (a *api) permittedTxn(ctx context.Context, req *cairn.TxnRequest) error {
	if _, ok := requester(ctx); !ok {
		return nil
	}
	for i := range req.Compare {
		c := &req.Compare[i]
		if err := a.permitted(ctx, cairn.PermRead, c.Key, c.RangeEnd); err != nil {
			return err
		}
	}
	for _, ops := range [][]cairn.RequestOp{req.Success, req.Failure} {
		for i := range ops {
			var err error
			switch op := &ops[i]; {
			case op.Range != nil:
				err = a.permitted(ctx, cairn.PermRead, op.Range.Key, op.Range.RangeEnd)
			case op.Put != nil:
				err = a.permittedPut(ctx, op.Put)
			case op.DeleteRange != nil:
				err = a.permittedDelete(ctx, op.DeleteRange)
			case op.Txn != nil:
				err = a.permittedTxn(ctx, op.Txn)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// permittedLeaseKeys checks want on every key attached to lease id (etcd:
// a revoke deletes them, so it needs write on each).
func (a *api) permittedLeaseKeys(ctx context.Context, id int64, want cairn.PermType) error {
	if _, ok := requester(ctx); !ok {
		return nil
	}
	ttl, err := a.b.LeaseTimeToLive(ctx, &cairn.LeaseTimeToLiveRequest{ID: id, Keys: true})
	if err != nil {
		return err
	}
	for _, k := range ttl.Keys {
		if err := a.permitted(ctx, want, k, nil); err != nil {
			return err
		}
	}
	return nil
}

// watchRefusal is the refusal of a watch create on a range the requester
// may not read, or nil.
func (a *api) watchRefusal(ctx context.Context, req *cairn.WatchCreateRequest) error {
	return a.permitted(ctx, cairn.PermRead, req.Key, req.RangeEnd)
}

// endWhenUserGone cancels a long request (a watch) once its requester's
// identity no longer holds after an auth change: the user was deleted,
// its password changed (its token ended) or auth was turned off and on.
// It returns when ctx ends.
func (a *api) endWhenUserGone(ctx context.Context, r *http.Request, cancel context.CancelFunc) {
	info, ok := requester(ctx)
	if !ok || info.User == "" {
		return
	}
	for {
		changed := a.authz.AuthChanged()
		if a.authz.AuthEnabled() {
			now, err := a.identify(r)
			if err != nil || now.User != info.User {
				cancel()
				return
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}
