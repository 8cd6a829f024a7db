package v2store

import (
	"testing"
)

// step is one v2 request and the answer etcd 3.4 gives in the same
// situation (observed with etcd --enable-v2 and curl; revisions are
// cairn's, which start at 1 where etcd's index starts elsewhere).
type step struct {
	name string
	req  *Request
	get  string // a GET of this path instead of req
	rec  bool   // recursive GET
	want string
}

func runSteps(t *testing.T, h *harness, steps []step) {
	t.Helper()
	for _, st := range steps {
		var (
			ev  *Event
			err *Error
		)
		if st.req != nil {
			ev, err = h.apply(st.req)
		} else {
			ev, err = h.get(st.get, st.rec)
		}
		if got := jsonOf(t, ev, err); got != st.want {
			t.Errorf("%s:\n got %s\nwant %s", st.name, got, st.want)
		}
	}
}

func TestPutGetDelete(t *testing.T) {
	h := newHarness(t, "")
	runSteps(t, h, []step{
		{name: "set creates parents", req: &Request{Method: MethodPut, Path: "/a/b", Value: "1"},
			want: `{"action":"set","node":{"key":"/a/b","value":"1","modifiedIndex":2,"createdIndex":2}}`},
		{name: "set of a dir", req: &Request{Method: MethodPut, Path: "/a", Value: "x"},
			want: `{"errorCode":102,"message":"Not a file","cause":"/a","index":2}`},
		{name: "write under a file", req: &Request{Method: MethodPut, Path: "/a/b/c", Value: "x"},
			want: `{"errorCode":104,"message":"Not a directory","cause":"/a/b","index":2}`},
		{name: "root", req: &Request{Method: MethodPut, Path: "/", Value: "x"},
			want: `{"errorCode":107,"message":"Root is read only","cause":"/","index":2}`},
		{name: "delete a dir without dir", req: &Request{Method: MethodDelete, Path: "/a"},
			want: `{"errorCode":102,"message":"Not a file","cause":"/a","index":2}`},
		{name: "delete a non-empty dir", req: &Request{Method: MethodDelete, Path: "/a", Dir: true},
			want: `{"errorCode":108,"message":"Directory not empty","cause":"/a","index":2}`},
		{name: "cas of a dir", req: &Request{Method: MethodPut, Path: "/a", PrevValue: "2", Value: "3"},
			want: `{"errorCode":102,"message":"Not a file","cause":"/a","index":2}`},
		{name: "cas fails on both", req: &Request{Method: MethodPut, Path: "/a/b", PrevValue: "2", PrevIndex: 3, Value: "3"},
			want: `{"errorCode":101,"message":"Compare failed","cause":"[2 != 1] [3 != 2]","index":2}`},
		{name: "cad fails on index", req: &Request{Method: MethodDelete, Path: "/a/b", PrevIndex: 3},
			want: `{"errorCode":101,"message":"Compare failed","cause":"[3 != 2]","index":2}`},
		{name: "cad of a missing key", req: &Request{Method: MethodDelete, Path: "/nope/x", PrevValue: "2"},
			want: `{"errorCode":100,"message":"Key not found","cause":"/nope","index":2}`},
		{name: "cas under a file", req: &Request{Method: MethodPut, Path: "/a/b/x/y", PrevExist: yes(), Value: "1"},
			want: `{"errorCode":104,"message":"Not a directory","cause":"/a/b","index":2}`},
		{name: "get under a file", get: "/a/b/x",
			want: `{"errorCode":104,"message":"Not a directory","cause":"/a/b","index":2}`},
		{name: "get under a missing dir", get: "/a/c/x",
			want: `{"errorCode":100,"message":"Key not found","cause":"/a/c","index":2}`},
		{name: "empty dir", req: &Request{Method: MethodPut, Path: "/x", Dir: true},
			want: `{"action":"set","node":{"key":"/x","dir":true,"modifiedIndex":3,"createdIndex":3}}`},
		{name: "set of an existing dir", req: &Request{Method: MethodPut, Path: "/x", Dir: true},
			want: `{"errorCode":102,"message":"Not a file","cause":"/x","index":3}`},
		{name: "hidden", req: &Request{Method: MethodPut, Path: "/_hidden", Value: "1"},
			want: `{"action":"set","node":{"key":"/_hidden","value":"1","modifiedIndex":4,"createdIndex":4}}`},
		{name: "recursive get hides _", get: "/", rec: true,
			want: `{"action":"get","node":{"dir":true,"nodes":[{"key":"/a","dir":true,"nodes":[{"key":"/a/b","value":"1","modifiedIndex":2,"createdIndex":2}],"modifiedIndex":2,"createdIndex":2},{"key":"/x","dir":true,"modifiedIndex":3,"createdIndex":3}]}}`},
		{name: "get of a hidden key", get: "/_hidden",
			want: `{"action":"get","node":{"key":"/_hidden","value":"1","modifiedIndex":4,"createdIndex":4}}`},
		{name: "get missing", get: "/a/zz",
			want: `{"errorCode":100,"message":"Key not found","cause":"/a/zz","index":4}`},
		{name: "create", req: &Request{Method: MethodPut, Path: "/p", Value: "1", PrevExist: no()},
			want: `{"action":"create","node":{"key":"/p","value":"1","modifiedIndex":5,"createdIndex":5}}`},
		{name: "create existing", req: &Request{Method: MethodPut, Path: "/p", Value: "2", PrevExist: no()},
			want: `{"errorCode":105,"message":"Key already exists","cause":"/p","index":5}`},
		{name: "update missing", req: &Request{Method: MethodPut, Path: "/q", Value: "2", PrevExist: yes()},
			want: `{"errorCode":100,"message":"Key not found","cause":"/q","index":5}`},
		{name: "update", req: &Request{Method: MethodPut, Path: "/p", Value: "3", PrevExist: yes()},
			want: `{"action":"update","node":{"key":"/p","value":"3","modifiedIndex":6,"createdIndex":5},"prevNode":{"key":"/p","value":"1","modifiedIndex":5,"createdIndex":5}}`},
		{name: "cas", req: &Request{Method: MethodPut, Path: "/p", Value: "4", PrevValue: "3"},
			want: `{"action":"compareAndSwap","node":{"key":"/p","value":"4","modifiedIndex":7,"createdIndex":5},"prevNode":{"key":"/p","value":"3","modifiedIndex":6,"createdIndex":5}}`},
		{name: "post", req: &Request{Method: MethodPost, Path: "/q", Value: "a"},
			want: `{"action":"create","node":{"key":"/q/00000000000000000008","value":"a","modifiedIndex":8,"createdIndex":8}}`},
		{name: "post again", req: &Request{Method: MethodPost, Path: "/q", Value: "b"},
			want: `{"action":"create","node":{"key":"/q/00000000000000000009","value":"b","modifiedIndex":9,"createdIndex":9}}`},
		{name: "list in order", get: "/q",
			want: `{"action":"get","node":{"key":"/q","dir":true,"nodes":[{"key":"/q/00000000000000000008","value":"a","modifiedIndex":8,"createdIndex":8},{"key":"/q/00000000000000000009","value":"b","modifiedIndex":9,"createdIndex":9}],"modifiedIndex":8,"createdIndex":8}}`},
		{name: "post under a file", req: &Request{Method: MethodPost, Path: "/a/b", Value: "1"},
			want: `{"errorCode":104,"message":"Not a directory","cause":"/a/b","index":9}`},
		{name: "touch a dir", req: &Request{Method: MethodPut, Path: "/x", Dir: true, PrevExist: yes()},
			want: `{"action":"update","node":{"key":"/x","dir":true,"modifiedIndex":10,"createdIndex":3},"prevNode":{"key":"/x","dir":true,"modifiedIndex":3,"createdIndex":3}}`},
		{name: "cad", req: &Request{Method: MethodDelete, Path: "/p", PrevValue: "4"},
			want: `{"action":"compareAndDelete","node":{"key":"/p","modifiedIndex":11,"createdIndex":5},"prevNode":{"key":"/p","value":"4","modifiedIndex":7,"createdIndex":5}}`},
		{name: "rm -r", req: &Request{Method: MethodDelete, Path: "/q", Dir: true, Recursive: true},
			want: `{"action":"delete","node":{"key":"/q","dir":true,"modifiedIndex":12,"createdIndex":8},"prevNode":{"key":"/q","dir":true,"modifiedIndex":8,"createdIndex":8}}`},
		{name: "gone", get: "/q/00000000000000000008",
			want: `{"errorCode":100,"message":"Key not found","cause":"/q","index":12}`},
		{name: "set an empty file", req: &Request{Method: MethodPut, Path: "/p"},
			want: `{"action":"set","node":{"key":"/p","value":"","modifiedIndex":13,"createdIndex":13}}`},
		{name: "a file becomes a dir", req: &Request{Method: MethodPut, Path: "/p", Dir: true},
			want: `{"action":"set","node":{"key":"/p","dir":true,"modifiedIndex":14,"createdIndex":13},"prevNode":{"key":"/p","value":"","modifiedIndex":13,"createdIndex":13}}`},
		{name: "rmdir", req: &Request{Method: MethodDelete, Path: "/p", Dir: true},
			want: `{"action":"delete","node":{"key":"/p","dir":true,"modifiedIndex":15,"createdIndex":13},"prevNode":{"key":"/p","dir":true,"modifiedIndex":14,"createdIndex":13}}`},
		{name: "delete a file", req: &Request{Method: MethodDelete, Path: "/a/b"},
			want: `{"action":"delete","node":{"key":"/a/b","modifiedIndex":16,"createdIndex":2},"prevNode":{"key":"/a/b","value":"1","modifiedIndex":2,"createdIndex":2}}`},
		{name: "its dir stays", get: "/a",
			want: `{"action":"get","node":{"key":"/a","dir":true,"modifiedIndex":2,"createdIndex":2}}`},
	})
}
