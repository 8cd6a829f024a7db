package httpapi

import (
	"net/http"
	"strings"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/v2store"
)

// The v2 keys API under the v3 users and roles (no separate v2 user
// database, and no v2 bypass): while auth is on, a /v2/keys request names
// its user with HTTP basic auth (etcdctl v2 --username, the Go v2 client),
// or a v3 token, or a verified client certificate's CN, and the v3
// permissions on the store keys its path maps to (docs/v2-mapping.md)
// decide:
//
//	GET, HEAD of a file       READ on its key
//	GET, HEAD of a directory  READ under it (its listing shows the
//	                          children; its own key holds no value)
//	  recursive=true          READ under it, and on its key if it is a file
//	  a missing key           READ on the key (a refusal tells nothing)
//	wait                      READ on the key; recursive: also under it
//	PUT                       WRITE on the key (the parent directories it
//	                          creates are not checked)
//	POST                      WRITE under the directory (a new child)
//	DELETE                    WRITE on the key; recursive or dir: also under
//
// "Under" the path p is the range [key(p)+"/", key(p)+"0"): its children,
// nothing else (/foo is not under /foobar). A refusal is etcd's v2 error 110
// with status 401 ("Insufficient credentials"), whatever the reason.

// errV2NoAuth is etcd's answer to missing, wrong or insufficient
// credentials.
func errV2NoAuth() *v2store.Error {
	return v2store.NewError(v2store.EcodeUnauthorized, "Insufficient credentials", 0)
}

// v2Requester identifies the user of a v2 request; ok is false while auth
// is off (nothing to check).
func (a *api) v2Requester(r *http.Request) (info cairn.AuthInfo, ok bool, err error) {
	if a.authz == nil || !a.authz.AuthEnabled() {
		return cairn.AuthInfo{}, false, nil
	}
	if name, password, basic := r.BasicAuth(); basic {
		info, err = a.authz.AuthInfoFromPassword(name, password)
	} else if h := r.Header.Get("Authorization"); h != "" {
		info, err = a.authz.AuthInfoFromToken(strings.TrimPrefix(h, "Bearer "))
	} else {
		info, err = a.identify(r) // a certificate's CN, or nobody
	}
	if err == nil && info.User == "" {
		err = cairn.ErrUserEmpty
	}
	return info, true, err
}

// v2Under returns the range of the keys under the v2 path p.
func v2Under(tree *v2store.Tree, p string) (key, end []byte) {
	key = tree.Key(p)
	if p != "/" {
		key = append(key, '/')
	}
	end = append([]byte(nil), key...)
	end[len(end)-1]++
	return key, end
}

// v2Permitted checks want on the key of p, and under it if subtree.
func (a *api) v2Permitted(info cairn.AuthInfo, want cairn.PermType, p string, subtree bool) error {
	tree, err := v2store.NewTree(a.v2.V2Prefix())
	if err != nil {
		return err
	}
	if p != "/" {
		if err := a.authz.CheckPermitted(info, want, tree.Key(p), nil); err != nil {
			return err
		}
	}
	if subtree {
		key, end := v2Under(tree, p)
		return a.authz.CheckPermitted(info, want, key, end)
	}
	return nil
}

// v2Allowed applies the table above to a parsed request before it runs.
// A GET or HEAD whose READ on the key itself is refused may still be
// allowed once it is known to list a directory: readKeyErr is that
// refusal, for v2ReadRefused.
func (a *api) v2Allowed(info cairn.AuthInfo, q *v2KeyRequest) (err, readKeyErr error) {
	switch q.method {
	case http.MethodGet, http.MethodHead:
		if q.wait {
			return a.v2Permitted(info, cairn.PermRead, q.path, q.recursive), nil
		}
		if q.recursive && a.v2UnderRefused(info, q.path) {
			return cairn.ErrPermissionDenied, nil
		}
		return nil, a.v2Permitted(info, cairn.PermRead, q.path, false)
	case http.MethodPost:
		return a.v2Permitted(info, cairn.PermWrite, q.path, true), nil
	case http.MethodDelete:
		return a.v2Permitted(info, cairn.PermWrite, q.path, q.recursive || q.dir), nil
	}
	return a.v2Permitted(info, cairn.PermWrite, q.path, false), nil
}

// v2ReadRefused decides a read once it ran: a directory needs READ under it
// (its listing shows the children), not on its own key (an empty
// directory key); a file, or an answer that the key is missing, needs
// READ on the key (a refusal must not tell whether the key exists).
func (a *api) v2ReadRefused(info cairn.AuthInfo, q *v2KeyRequest, ev *v2store.Event, err, readKeyErr error) bool {
	if err == nil && ev.Node != nil && ev.Node.Dir {
		return a.v2UnderRefused(info, q.path)
	}
	return readKeyErr != nil
}

// v2UnderRefused reports whether READ under p is refused.
func (a *api) v2UnderRefused(info cairn.AuthInfo, p string) bool {
	tree, err := v2store.NewTree(a.v2.V2Prefix())
	if err != nil {
		return true
	}
	key, end := v2Under(tree, p)
	return a.authz.CheckPermitted(info, cairn.PermRead, key, end) != nil
}

// v2AdminWrites guards the v2 members API as etcd's v2 auth does: its
// writes (add, remove, update) need a user with the root role while auth
// is on, refused with 401 {"message":"Insufficient credentials"}; its
// reads are open.
func (a *api) v2AdminWrites(h http.HandlerFunc) http.HandlerFunc {
	if a.authz == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			info, checked, err := a.v2Requester(r)
			if checked && (err != nil || a.authz.CheckAdmin(info) != nil) {
				finishBody(w, r.Body)
				writeJSON(w, http.StatusUnauthorized, []byte(`{"message":"Insufficient credentials"}`+"\n"))
				return
			}
		}
		h(w, r)
	}
}
