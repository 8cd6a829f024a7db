package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cairnkv/cairn/v2store"
)

// HTTP conditional requests on /v2/keys (RFC 9110 section 13; no etcd has
// them), mapped onto the v2 compare parameters:
//
//   - GET (and HEAD) of a file answers ETag: "<modifiedIndex>". The tag
//     names the file's value and modifiedIndex; the ttl and expiration shown
//     with it count down without changing it.
//   - If-None-Match on GET: a list of tags or *; when the file's current
//     tag is in it (* : any file), the answer is 304 with ETag and
//     X-Etcd-Index and no body. Ignored with wait=true and for directories.
//   - If-Match: "<n>" on PUT or DELETE is prevIndex=n (412, errorCode 101
//     when the file's modifiedIndex is another); If-Match: * on PUT is
//     prevExist=true.
//   - If-None-Match: * on PUT is prevExist=false (412, errorCode 105 when
//     the key exists).
//
// The prevIndex and prevExist parameters win when both are given. A value
// these rules do not take (a list or a weak tag in If-Match, a tag other
// than * in If-None-Match on PUT, either header on a method it has no
// meaning for here) is refused with errorCode 209 naming the header, as the
// v2 API refuses a bad parameter, and changes nothing.

// v2Conditions are the conditional headers of a v2 keys request.
type v2Conditions struct {
	ifNoneMatch []string // GET: the tags (or "*") that answer 304
}

// parseV2Conditions reads r's If-Match and If-None-Match into q (f is the
// request's merged parameters, which win).
func parseV2Conditions(r *http.Request, f *v2Form, q *v2KeyRequest) *v2store.Error {
	ifMatch, hasIfMatch := headerValue(r, "If-Match")
	ifNoneMatch, hasIfNoneMatch := headerValue(r, "If-None-Match")
	bad := func(name, why string) *v2store.Error {
		return v2store.NewError(v2store.EcodeInvalidField, `invalid value for "`+name+`": `+why, 0)
	}
	if hasIfMatch {
		switch r.Method {
		case http.MethodPut, http.MethodDelete:
		default:
			return bad("If-Match", "only PUT and DELETE take it")
		}
		if ifMatch == "*" {
			if r.Method == http.MethodPut && !f.has("prevExist") {
				t := true
				q.prevExist = &t
			}
		} else {
			n, ok := parseETag(ifMatch)
			if !ok {
				return bad("If-Match", `one strong tag "<modifiedIndex>" or *`)
			}
			if !f.has("prevIndex") {
				q.prevIndex = n
			}
		}
	}
	if hasIfNoneMatch {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			for _, t := range strings.Split(ifNoneMatch, ",") {
				q.cond.ifNoneMatch = append(q.cond.ifNoneMatch, strings.TrimPrefix(strings.TrimSpace(t), "W/"))
			}
		case http.MethodPut:
			if ifNoneMatch != "*" {
				return bad("If-None-Match", "PUT takes only *")
			}
			if !f.has("prevExist") {
				f := false
				q.prevExist = &f
			}
		default:
			return bad("If-None-Match", "only GET, HEAD and PUT take it")
		}
	}
	return nil
}

// headerValue returns a header's values joined as one list, and whether it
// was sent.
func headerValue(r *http.Request, name string) (string, bool) {
	vs := r.Header.Values(name)
	return strings.TrimSpace(strings.Join(vs, ",")), len(vs) > 0
}

// parseETag parses one strong tag "<n>" with n a positive decimal integer.
func parseETag(s string) (uint64, bool) {
	if len(s) < 3 || s[0] != '"' || s[len(s)-1] != '"' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[1:len(s)-1], 10, 64)
	return n, err == nil && n > 0
}

// v2ETag is the tag of a file at modifiedIndex.
func v2ETag(modifiedIndex int64) string {
	return `"` + strconv.FormatInt(modifiedIndex, 10) + `"`
}

// notModified sets the ETag of a file's GET answer and reports whether the
// request's If-None-Match holds it (the answer is then 304).
func (c *v2Conditions) notModified(w http.ResponseWriter, ev *v2store.Event) bool {
	if ev.Node == nil || ev.Node.Dir || ev.Node.ModifiedIndex == 0 {
		return false
	}
	tag := v2ETag(ev.Node.ModifiedIndex)
	w.Header().Set("ETag", tag)
	for _, t := range c.ifNoneMatch {
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}
