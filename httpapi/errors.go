package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/v2store"
)

// grpcCode is a gRPC status code (google.golang.org/grpc/codes), which etcd's
// gateway puts in the "code" field of v3 error bodies.
type grpcCode int32

// The gRPC codes cairn answers with.
const (
	codeCanceled           grpcCode = 1
	codeUnknown            grpcCode = 2
	codeInvalidArgument    grpcCode = 3
	codeDeadlineExceeded   grpcCode = 4
	codeNotFound           grpcCode = 5
	codeResourceExhausted  grpcCode = 8
	codeFailedPrecondition grpcCode = 9
	codeOutOfRange         grpcCode = 11
	codeUnavailable        grpcCode = 14
	codePermissionDenied   grpcCode = 7
	codeUnauthenticated    grpcCode = 16
)

// httpStatus is the HTTP status etcd 3.4's gateway (grpc-gateway v1.9.5,
// runtime.HTTPStatusFromCode) sends for a gRPC code.
func (c grpcCode) httpStatus() int {
	switch c {
	case 0:
		return http.StatusOK
	case codeCanceled:
		return http.StatusRequestTimeout
	case codeInvalidArgument, codeOutOfRange:
		return http.StatusBadRequest
	case codeFailedPrecondition:
		// grpc-gateway v1 (etcd 3.4): 412; v2 changed it to 400. etcd
		// 3.4.23 answers "lease already exists" with 412.
		return http.StatusPreconditionFailed
	case codeDeadlineExceeded:
		return http.StatusGatewayTimeout
	case codeNotFound:
		return http.StatusNotFound
	case 6 /* AlreadyExists */, 10 /* Aborted */ :
		return http.StatusConflict
	case codePermissionDenied:
		return http.StatusForbidden
	case codeUnauthenticated:
		return http.StatusUnauthorized
	case codeResourceExhausted:
		return http.StatusTooManyRequests
	case 12 /* Unimplemented */ :
		return http.StatusNotImplemented
	case codeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError // Unknown, Internal, DataLoss
}

// v3Errors is THE table from cairn's error vocabulary to what etcd's v3
// gateway answers: the gRPC code (and so the HTTP status) and the message.
// An empty message means the sentinel's own text, which is etcd's. The
// mapping mirrors etcd's api/v3rpc/util.go (toGRPCErrorMap) and
// rpctypes/error.go. Errors are matched with errors.Is, so wrapped errors map
// like their sentinel and answer the sentinel's message.
var v3Errors = []struct {
	err  error
	code grpcCode
	msg  string
}{
	// etcd's gRPC layer prefixes mvcc's messages with "etcdserver: ".
	{cairn.ErrCompacted, codeOutOfRange, "etcdserver: mvcc: required revision has been compacted"},
	{cairn.ErrFutureRev, codeOutOfRange, "etcdserver: mvcc: required revision is a future revision"},
	{cairn.ErrEmptyKey, codeInvalidArgument, ""},
	{cairn.ErrKeyNotFound, codeInvalidArgument, ""},
	{cairn.ErrValueProvided, codeInvalidArgument, ""},
	{cairn.ErrLeaseProvided, codeInvalidArgument, ""},
	{cairn.ErrTooManyOps, codeInvalidArgument, ""},
	{cairn.ErrDuplicateKey, codeInvalidArgument, ""},
	{cairn.ErrInvalidSortOption, codeInvalidArgument, ""}, // etcd 3.5's check
	{cairn.ErrRequestTooLarge, codeInvalidArgument, ""},
	{cairn.ErrLeaseNotFound, codeNotFound, ""},
	{cairn.ErrLeaseExists, codeFailedPrecondition, ""},
	{cairn.ErrLeaseTTLTooLarge, codeOutOfRange, ""},
	{cairn.ErrNoSpace, codeResourceExhausted, ""},
	{cairn.ErrStopped, codeUnavailable, ""},
	{cairn.ErrTimeout, codeUnavailable, ""},
	{cairn.ErrNoLeader, codeUnavailable, ""},
	// Membership (etcd's v3rpc util.go maps membership.ErrIDRemoved to
	// "member not found").
	{cairn.ErrMemberNotFound, codeNotFound, ""},
	{cairn.ErrMemberRemoved, codeNotFound, cairn.ErrMemberNotFound.Error()},
	{cairn.ErrMemberExist, codeFailedPrecondition, ""},
	{cairn.ErrPeerURLExist, codeFailedPrecondition, ""},
	{cairn.ErrMemberBadURLs, codeInvalidArgument, ""},
	{cairn.ErrMemberNotLearner, codeFailedPrecondition, ""},
	{cairn.ErrLearnerNotReady, codeFailedPrecondition, ""},
	{cairn.ErrTooManyLearners, codeFailedPrecondition, ""},
	{cairn.ErrNotEnoughStartedMembers, codeFailedPrecondition, ""},
	{cairn.ErrUnhealthy, codeUnavailable, ""},
	{cairn.ErrNotSupportedForLearner, codeUnavailable, ""},
	// Auth (etcd's rpctypes and v3rpc util.go).
	{cairn.ErrUserEmpty, codeInvalidArgument, ""},
	{cairn.ErrUserAlreadyExist, codeFailedPrecondition, ""},
	{cairn.ErrUserNotFound, codeFailedPrecondition, ""},
	{cairn.ErrRoleEmpty, codeInvalidArgument, ""},
	{cairn.ErrRoleAlreadyExist, codeFailedPrecondition, ""},
	{cairn.ErrRoleNotFound, codeFailedPrecondition, ""},
	{cairn.ErrRoleNotGranted, codeFailedPrecondition, ""},
	{cairn.ErrPermissionNotGiven, codeInvalidArgument, ""},
	{cairn.ErrPermissionNotGranted, codeFailedPrecondition, ""},
	{cairn.ErrPermissionDenied, codePermissionDenied, ""},
	{cairn.ErrRootUserNotExist, codeFailedPrecondition, ""},
	{cairn.ErrRootRoleNotExist, codeFailedPrecondition, ""},
	{cairn.ErrInvalidAuthMgmt, codeInvalidArgument, ""},
	{cairn.ErrAuthNotEnabled, codeFailedPrecondition, ""},
	{cairn.ErrAuthFailed, codeInvalidArgument, ""},
	{cairn.ErrPasswordTooLong, codeInvalidArgument, ""},
	{cairn.ErrInvalidAuthToken, codeUnauthenticated, ""},
	// A context error reaches the client as gRPC makes it.
	{context.Canceled, codeCanceled, "context canceled"},
	{context.DeadlineExceeded, codeDeadlineExceeded, "context deadline exceeded"},
}

// v3Status maps err to etcd's gRPC code and message. known is false for an
// error outside the vocabulary: an internal error, answered as gRPC Unknown
// (HTTP 500) with its own text, as etcd does, and worth logging.
func v3Status(err error) (code grpcCode, msg string, known bool) {
	var pe *parseError
	if errors.As(err, &pe) {
		return codeInvalidArgument, pe.msg, true
	}
	var ge *gatewayError
	if errors.As(err, &ge) {
		return codeUnknown, ge.msg, true
	}
	for _, e := range v3Errors {
		if errors.Is(err, e.err) {
			if e.msg != "" {
				return e.code, e.msg, true
			}
			return e.code, e.err.Error(), true
		}
	}
	return codeUnknown, err.Error(), false
}

// v2Status is the HTTP status etcd v2 (3.4, etcdserver/api/v2error) sends
// with a v2 error code: 404 for a missing key (100); 403 for an operation
// on the wrong kind of node (102 not a file, 108 directory not empty); 412
// for a failed condition (101 compare failed, 105 key exists); 401 for 110;
// 500 for the cluster's own failures (300 raft internal, 301 leader
// election); 400 for every other code.
func v2Status(code int) int {
	switch code {
	case v2store.EcodeKeyNotFound:
		return http.StatusNotFound
	case v2store.EcodeNotFile, v2store.EcodeDirNotEmpty:
		return http.StatusForbidden
	case v2store.EcodeTestFailed, v2store.EcodeNodeExist:
		return http.StatusPreconditionFailed
	case v2store.EcodeUnauthorized:
		return http.StatusUnauthorized
	case v2store.EcodeRaftInternal, v2store.EcodeLeaderElect:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// writeV3Error is THE writer of v3 error bodies: etcd's gateway shape
// {"error": msg, "message": msg, "code": grpcCode} (in etcd's field order),
// with the HTTP status of the code. Internal errors are logged.
func (a *api) writeV3Error(w http.ResponseWriter, r *http.Request, err error) {
	code, msg, known := v3Status(err)
	if !known {
		a.log.Error("v3 request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	b := appendV3Error((*buf)[:0], code, msg)
	*buf = b
	writeJSON(w, code.httpStatus(), b)
}

// appendV3Error appends the body of a v3 error: {"error": msg, "message":
// msg, "code": code}.
func appendV3Error(b []byte, code grpcCode, msg string) []byte {
	b = append(b, `{"error":`...)
	b = appendString(b, msg)
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	b = append(b, `,"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	return append(b, '}')
}
