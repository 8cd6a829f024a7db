package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	json "github.com/goccy/go-json"

	"github.com/cairnkv/cairn"
)

// Forwarding lease requests from a follower to the leader, as etcd forwards
// LeaseRenew and LeaseTimeToLive to its leader's peer URL. Two peer
// endpoints, checked like every peer request (cluster and member ids):
//
//	POST /lease/keepalive   {"id":7,"applied":80}            -> {"id":7,"ttl":60,"revision":12}
//	POST /lease/timetolive  {"id":7,"keys":true,"applied":80} -> {"id":7,"ttl":41,"granted_ttl":60,
//	                                                             "keys":["YQ=="],"revision":12}
//
// The leader first waits until it has applied the follower's applied index
// (so its answer reflects every write the follower's client saw), then
// answers from its own lessor, and never forwards again (Member's
// LeaseKeepAlive and LeaseTimeToLive): if it is not the primary lessor (it
// lost the leadership, or has not applied its first entry yet) it answers
// 409 and the follower looks again at who leads. Other failures come back
// as {"error": msg} with the message of a cairn sentinel, which the
// follower maps back to it. The answer's header is completed by the member
// the client asked: its member id, the leader's revision.

// leasePeerRequest is the body of both peer endpoints. Applied is the
// follower's applied index: the leader answers once it has applied as much,
// so the answer reflects every write the follower's client saw (a key it
// attached, a lease it granted).
type leasePeerRequest struct {
	ID      int64  `json:"id"`
	Keys    bool   `json:"keys,omitempty"`
	Applied uint64 `json:"applied,omitempty"`
}

// leasePeerResponse is the leader's answer.
type leasePeerResponse struct {
	ID         int64    `json:"id"`
	TTL        int64    `json:"ttl"`
	GrantedTTL int64    `json:"granted_ttl,omitempty"`
	Keys       [][]byte `json:"keys,omitempty"`
	Revision   int64    `json:"revision"`
	Error      string   `json:"error,omitempty"`
}

// leaseForwardErrors are the errors a leader's answer may name.
var leaseForwardErrors = []error{
	cairn.ErrLeaseNotFound, cairn.ErrStopped, cairn.ErrTimeout, cairn.ErrNoLeader,
}

// serveLease answers a follower's forwarded keepalive or timetolive from
// this member's lessor.
func (t *Transport) serveLease(w http.ResponseWriter, r *http.Request) {
	if _, ok := t.checkPeer(w, r); !ok {
		return
	}
	var req leasePeerRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var resp leasePeerResponse
	var err error
	if r.URL.Path == "/lease/keepalive" {
		var ka *cairn.LeaseKeepAliveResponse
		ka, err = t.member.LeaseKeepAlive(r.Context(), &cairn.LeaseKeepAliveRequest{ID: req.ID}, req.Applied)
		if err == nil {
			resp = leasePeerResponse{ID: ka.ID, TTL: ka.TTL, Revision: ka.Header.Revision}
		}
	} else {
		var ttl *cairn.LeaseTimeToLiveResponse
		ttl, err = t.member.LeaseTimeToLive(r.Context(), &cairn.LeaseTimeToLiveRequest{ID: req.ID, Keys: req.Keys}, req.Applied)
		if err == nil {
			resp = leasePeerResponse{ID: ttl.ID, TTL: ttl.TTL, GrantedTTL: ttl.GrantedTTL, Keys: ttl.Keys, Revision: ttl.Header.Revision}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case errors.Is(err, ErrLeaseNotLeader):
		w.WriteHeader(http.StatusConflict)
		resp = leasePeerResponse{Error: err.Error()}
	case err != nil:
		w.WriteHeader(http.StatusServiceUnavailable)
		resp = leasePeerResponse{Error: err.Error()}
	}
	_ = json.NewEncoder(w).Encode(&resp)
}

// ForwardLeaseKeepAlive asks leader to renew lease req.ID, on the leader's
// primary lessor, once the leader has applied index applied (this member's
// applied index: the answer then reflects every write its client saw). It
// returns the leader's answer (ID, TTL and Header.Revision; the caller
// completes the header), ErrLeaseNotLeader when the leader is unknown to
// the transport, unreachable, or not (or not yet) the primary lessor (look
// again at who leads), ctx's error when ctx ended, or a cairn sentinel the
// leader answered (cairn.ErrLeaseNotFound, cairn.ErrTimeout...).
func (t *Transport) ForwardLeaseKeepAlive(ctx context.Context, leader uint64, req *cairn.LeaseKeepAliveRequest, applied uint64) (*cairn.LeaseKeepAliveResponse, error) {
	r, err := t.postLease(ctx, leader, "/lease/keepalive", leasePeerRequest{ID: req.ID, Applied: applied})
	if err != nil {
		return nil, err
	}
	resp := &cairn.LeaseKeepAliveResponse{ID: r.ID, TTL: r.TTL}
	resp.Header.Revision = r.Revision
	return resp, nil
}

// ForwardLeaseTimeToLive is ForwardLeaseKeepAlive for a timetolive: the
// leader's answer has ID, TTL, GrantedTTL, Keys (with req.Keys) and
// Header.Revision; the errors are the same.
func (t *Transport) ForwardLeaseTimeToLive(ctx context.Context, leader uint64, req *cairn.LeaseTimeToLiveRequest, applied uint64) (*cairn.LeaseTimeToLiveResponse, error) {
	r, err := t.postLease(ctx, leader, "/lease/timetolive", leasePeerRequest{ID: req.ID, Keys: req.Keys, Applied: applied})
	if err != nil {
		return nil, err
	}
	resp := &cairn.LeaseTimeToLiveResponse{ID: r.ID, TTL: r.TTL, GrantedTTL: r.GrantedTTL, Keys: r.Keys}
	resp.Header.Revision = r.Revision
	return resp, nil
}

// postLease sends one lease request to the leader's peer URL. A leader that
// is not (or not yet) the primary lessor gives ErrLeaseNotLeader.
func (t *Transport) postLease(ctx context.Context, leader uint64, path string, body leasePeerRequest) (*leasePeerResponse, error) {
	p := t.peer(leader)
	if p == nil {
		return nil, ErrLeaseNotLeader // a leader this member does not know yet
	}
	b, _ := json.Marshal(body)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url()+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	t.setHeaders(hreq.Header, leader)
	hresp, err := t.client.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, ErrLeaseNotLeader // unreachable: look again at who leads
	}
	defer hresp.Body.Close()
	var r leasePeerResponse
	if err := json.NewDecoder(io.LimitReader(hresp.Body, 64<<20)).Decode(&r); err != nil {
		return nil, fmt.Errorf("the leader's answer to %s (%d): %w", path, hresp.StatusCode, err)
	}
	switch {
	case hresp.StatusCode == http.StatusConflict:
		return nil, ErrLeaseNotLeader
	case hresp.StatusCode != http.StatusOK:
		for _, e := range leaseForwardErrors {
			if r.Error == e.Error() {
				return nil, e
			}
		}
		return nil, fmt.Errorf("the leader answered %s with %d: %s", path, hresp.StatusCode, r.Error)
	}
	return &r, nil
}
