package grpcapi

import (
	"context"
	"errors"
	"log/slog"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairnkv/cairn"
)

// grpcErrors is THE table from cairn's error vocabulary to the gRPC status
// etcd's server answers: rpctypes' ErrGRPC* values, code and message, so
// that clientv3's checks (rpctypes.Error(err) == rpctypes.ErrCompacted,
// ...) hold. It mirrors etcd's api/v3rpc/util.go (toGRPCErrorMap) and
// httpapi's v3Errors, which answers the same codes and messages as JSON.
// Errors are matched with errors.Is, so wrapped errors map like their
// sentinel.
var grpcErrors = []struct {
	err    error
	status error
}{
	{cairn.ErrCompacted, rpctypes.ErrGRPCCompacted},
	{cairn.ErrFutureRev, rpctypes.ErrGRPCFutureRev},
	{cairn.ErrEmptyKey, rpctypes.ErrGRPCEmptyKey},
	{cairn.ErrKeyNotFound, rpctypes.ErrGRPCKeyNotFound},
	{cairn.ErrValueProvided, rpctypes.ErrGRPCValueProvided},
	{cairn.ErrLeaseProvided, rpctypes.ErrGRPCLeaseProvided},
	{cairn.ErrTooManyOps, rpctypes.ErrGRPCTooManyOps},
	{cairn.ErrDuplicateKey, rpctypes.ErrGRPCDuplicateKey},
	// etcd 3.5's check; rpctypes has no value for it.
	{cairn.ErrInvalidSortOption, status.Error(codes.InvalidArgument, cairn.ErrInvalidSortOption.Error())},
	{cairn.ErrRequestTooLarge, rpctypes.ErrGRPCRequestTooLarge},
	{cairn.ErrLeaseNotFound, rpctypes.ErrGRPCLeaseNotFound},
	{cairn.ErrLeaseExists, rpctypes.ErrGRPCLeaseExist},
	{cairn.ErrLeaseTTLTooLarge, rpctypes.ErrGRPCLeaseTTLTooLarge},
	{cairn.ErrNoSpace, rpctypes.ErrGRPCNoSpace},
	{cairn.ErrStopped, rpctypes.ErrGRPCStopped},
	{cairn.ErrTimeout, rpctypes.ErrGRPCTimeout},
	{cairn.ErrNoLeader, rpctypes.ErrGRPCNoLeader},
	{cairn.ErrMemberNotFound, rpctypes.ErrGRPCMemberNotFound},
	{cairn.ErrMemberRemoved, rpctypes.ErrGRPCMemberNotFound}, // as etcd's util.go
	{cairn.ErrMemberExist, rpctypes.ErrGRPCMemberExist},
	{cairn.ErrPeerURLExist, rpctypes.ErrGRPCPeerURLExist},
	{cairn.ErrMemberBadURLs, rpctypes.ErrGRPCMemberBadURLs},
	{cairn.ErrMemberNotLearner, rpctypes.ErrGRPCMemberNotLearner},
	{cairn.ErrLearnerNotReady, rpctypes.ErrGRPCLearnerNotReady},
	{cairn.ErrTooManyLearners, rpctypes.ErrGRPCTooManyLearners},
	{cairn.ErrNotEnoughStartedMembers, rpctypes.ErrGRPCMemberNotEnoughStarted},
	{cairn.ErrUnhealthy, rpctypes.ErrGRPCUnhealthy},
	{cairn.ErrNotSupportedForLearner, rpctypes.ErrGPRCNotSupportedForLearner},
	{context.Canceled, rpctypes.ErrGRPCCanceled},
	{context.DeadlineExceeded, rpctypes.ErrGRPCDeadlineExceeded},
}

// toStatus maps err to etcd's gRPC status. An error outside the vocabulary
// is internal: it is logged and answered as codes.Unknown with its own
// text, as etcd's server does.
func toStatus(log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err // already a status (the learner and leader checks)
	}
	for _, e := range grpcErrors {
		if errors.Is(err, e.err) {
			return e.status
		}
	}
	log.Error("gRPC request failed", "method", method, "err", err)
	return status.Error(codes.Unknown, err.Error())
}
