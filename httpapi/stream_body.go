package httpapi

import (
	"errors"
	"io"
	"net/http"

	"github.com/cairnkv/cairn"
)

// The end of a stream handler's request body.
//
// The stream handlers (watch_http.go, lease_keepalive.go) read their request
// body while they write their answer: net/http's full-duplex mode. For every
// other handler net/http reads what the handler left of the body before the
// answer goes out; in full-duplex mode it leaves the body alone and reads the
// rest after the handler has returned. If that read reaches the end of the
// body, net/http starts waiting for the next request in the background while
// it also waits for it in the foreground, and panics: "http: panic serving
// ...: invalid concurrent Body.Read call" (golang/go#68560), a stack in the
// log for each such request, and the client's keep-alive connection dropped
// without a "Connection: close".
//
// So a stream handler that stops reading requests while the client may still
// be sending settles the rest of the body before it returns:
//
//   - a request that does not decode, or is too large, ends the requests: the
//     handler calls finishBody, which reads and drops the rest of the body, as
//     net/http (and so etcd 3.4) does before it answers. A body that ends
//     within maxBodyDrain leaves the connection ready for the next request;
//     a longer one makes net/http close it after the answer, saying
//     "Connection: close" when the answer has not started (etcd 3.4 answers
//     a 1 MB body of garbage the same way);
//   - a stream the member ends before answering anything (it is stopping, a
//     renewal failed) is answered at once with "Connection: close"
//     (closeAfterAnswer): after the answer net/http reads at most 256 KiB
//     more of the body and closes the connection, without looking for
//     another request.
//
// Not covered: a keepalive stream whose renewal fails after it has answered
// (its header is out, so it cannot say "Connection: close", and the client is
// usually still sending); net/http reads the rest of the body after it.

// maxBodyDrain is how much of a body a stream handler reads and drops after
// its last request: net/http's own bound for the same job (256 KiB), the one
// etcd 3.4 answers with.
const maxBodyDrain = 256 << 10

// headerClose is the value of "Connection: close".
var headerClose = []string{"close"}

// finishBody reads and drops the rest of body, at most maxBodyDrain bytes.
// Past that, net/http is told (through http.MaxBytesReader) to close the
// connection after the answer. The caller has stopped reading body; the
// connection's read deadline, if any, bounds the wait.
func finishBody(w http.ResponseWriter, body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, http.MaxBytesReader(baseWriter(w), body, maxBodyDrain))
}

// baseWriter returns net/http's own ResponseWriter under w's wrappers (the
// metrics middleware's): http.MaxBytesReader can tell only that one to close
// the connection.
func baseWriter(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// closeAfterAnswer makes net/http close the connection after the answer
// (and not read the rest of the body for the next request). It must come
// before the answer's header is written.
func closeAfterAnswer(w http.ResponseWriter) {
	w.Header()["Connection"] = headerClose
}

// isBadRequest reports whether err, from a stream's request reader, is a
// request that does not decode or is too large (rather than the end of the
// body or a broken connection).
func isBadRequest(err error) bool {
	var pe *parseError
	return errors.As(err, &pe) || errors.Is(err, cairn.ErrRequestTooLarge)
}
