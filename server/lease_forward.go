package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/cairnkv/cairn"
	json "github.com/goccy/go-json"
)

// Forwarding lease requests from a follower to the leader over the peer
// transport, as etcd forwards LeaseRenew and LeaseTimeToLive to its leader's
// peer URL. Two peer endpoints, checked like every peer request (cluster
// and member ids):
//
//	POST /lease/keepalive   {"id":7,"applied":80}            -> {"id":7,"ttl":60,"revision":12}
//	POST /lease/timetolive  {"id":7,"keys":true,"applied":80} -> {"id":7,"ttl":41,"granted_ttl":60,
//	                                                             "keys":["YQ=="],"revision":12}
//
// The leader first waits until it has applied the follower's applied index
// (so its answer reflects every write the follower's client saw), then
// answers from its own lessor, and never forwards again: if it is
// not the primary lessor (it lost the leadership, or has not applied its
// first entry yet) it answers 409 and the follower looks again at who
// leads. Other failures come back as {"error": msg} with the message of a
// store sentinel, which the follower maps back to it. The answer's header
// is completed by the member the client asked: its member id, the leader's
// revision.

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

// addLeaseRoutes adds the lease endpoints to the peer handler.
func (t *transport) addLeaseRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /lease/keepalive", t.serveLease)
	mux.HandleFunc("POST /lease/timetolive", t.serveLease)
}

// serveLease answers a follower's forwarded keepalive or timetolive from
// this member's lessor.
func (t *transport) serveLease(w http.ResponseWriter, r *http.Request) {
	if _, ok := t.checkPeer(w, r); !ok {
		return
	}
	s := t.s
	var req leasePeerRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.requestTimeout())
	defer cancel()
	var resp leasePeerResponse
	var err error
	select {
	case <-s.applied.Wait(req.Applied):
	case <-ctx.Done():
		err = cairn.ErrTimeout
	case <-s.stopc:
		err = cairn.ErrStopped
	}
	switch {
	case err != nil:
	case r.URL.Path == "/lease/keepalive":
		err = s.atLeaseLeader(ctx, func(ctx context.Context) error {
			var ka *cairn.LeaseKeepAliveResponse
			ka, err := s.leaseRenewLocal(ctx, &cairn.LeaseKeepAliveRequest{ID: req.ID})
			if err == nil {
				resp = leasePeerResponse{ID: ka.ID, TTL: ka.TTL, Revision: ka.Header.Revision}
			}
			return err
		}, nil)
	default:
		err = s.atLeaseLeader(ctx, func(context.Context) error {
			ttl, err := s.leaseTimeToLiveLocal(&cairn.LeaseTimeToLiveRequest{ID: req.ID, Keys: req.Keys})
			if err == nil {
				resp = leasePeerResponse{ID: ttl.ID, TTL: ttl.TTL, GrantedTTL: ttl.GrantedTTL, Keys: ttl.Keys, Revision: ttl.Header.Revision}
			}
			return err
		}, nil)
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case errors.Is(err, errLeaseNotLeader):
		w.WriteHeader(http.StatusConflict)
		resp = leasePeerResponse{Error: err.Error()}
	case err != nil:
		w.WriteHeader(http.StatusServiceUnavailable)
		resp = leasePeerResponse{Error: err.Error()}
	}
	_ = json.NewEncoder(w).Encode(&resp)
}

// transportForwarder is the LeaseForwarder over the peer transport.
type transportForwarder struct{ t *transport }

func (f transportForwarder) ForwardLeaseKeepAlive(ctx context.Context, leader uint64, req *cairn.LeaseKeepAliveRequest) (*cairn.LeaseKeepAliveResponse, error) {
	r, err := f.post(ctx, leader, "/lease/keepalive", leasePeerRequest{ID: req.ID, Applied: f.t.s.appliedIndex.Load()})
	if err != nil {
		return nil, err
	}
	resp := &cairn.LeaseKeepAliveResponse{ID: r.ID, TTL: r.TTL}
	resp.Header.Revision = r.Revision
	return resp, nil
}

func (f transportForwarder) ForwardLeaseTimeToLive(ctx context.Context, leader uint64, req *cairn.LeaseTimeToLiveRequest) (*cairn.LeaseTimeToLiveResponse, error) {
	r, err := f.post(ctx, leader, "/lease/timetolive", leasePeerRequest{ID: req.ID, Keys: req.Keys, Applied: f.t.s.appliedIndex.Load()})
	if err != nil {
		return nil, err
	}
	resp := &cairn.LeaseTimeToLiveResponse{ID: r.ID, TTL: r.TTL, GrantedTTL: r.GrantedTTL, Keys: r.Keys}
	resp.Header.Revision = r.Revision
	return resp, nil
}

// post sends one lease request to the leader's peer URL. A leader that is
// not (or not yet) the primary lessor gives errLeaseNotLeader.
func (f transportForwarder) post(ctx context.Context, leader uint64, path string, body leasePeerRequest) (*leasePeerResponse, error) {
	p := f.t.peer(leader)
	if p == nil {
		return nil, errLeaseNotLeader // a leader this member does not know yet
	}
	b, _ := json.Marshal(body)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url()+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	f.t.setHeaders(hreq.Header, leader)
	hresp, err := f.t.client.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errLeaseNotLeader // unreachable: look again at who leads
	}
	defer hresp.Body.Close()
	var r leasePeerResponse
	if err := json.NewDecoder(io.LimitReader(hresp.Body, 64<<20)).Decode(&r); err != nil {
		return nil, fmt.Errorf("the leader's answer to %s (%d): %w", path, hresp.StatusCode, err)
	}
	switch {
	case hresp.StatusCode == http.StatusConflict:
		return nil, errLeaseNotLeader
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
