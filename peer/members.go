package peer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cairnkv/cairn"
)

// serveMembers lists the cluster's members for a member that joins.
func (t *Transport) serveMembers(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(hdrClusterID, strconv.FormatUint(t.clusterID, 16))
	w.Header().Set("Content-Type", "application/json")
	b, err := t.member.MembersJSON()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write(append(b, '\n'))
}

// FetchMembers asks each peer URL in turn for GET /members (a member that
// joins a running cluster does) and returns the cluster id of the first
// answer that decode accepts; decode gets the answer's JSON array of
// members. It needs no Transport: the joining member has none yet; tlsConfig
// is Config.TLS, for https URLs.
func FetchMembers(urls []string, tlsConfig func(serverName string) *tls.Config, decode func(members []byte) error) (clusterID uint64, err error) {
	d := &dialer{tls: tlsConfig}
	client := d.client(5 * time.Second)
	defer client.CloseIdleConnections()
	var errs []error
	for _, u := range urls {
		cid, err := fetchMembersFrom(client, strings.TrimRight(u, "/"), decode)
		if err == nil {
			return cid, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", u, err))
	}
	return 0, fmt.Errorf("could not get the cluster's members: %w", errors.Join(errs...))
}

func fetchMembersFrom(client *http.Client, url string, decode func([]byte) error) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/members", nil)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	cid, err := strconv.ParseUint(resp.Header.Get(hdrClusterID), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("no cluster id in the answer")
	}
	if err := decode(body); err != nil {
		return 0, err
	}
	return cid, nil
}

// A follower forwards a learner's promotion to the leader, which alone
// knows how far behind the learner is (as etcd 3.4 does):
//
//	POST /members/promote/<id, decimal>   -> 200, or 412 with the error's text

// ForwardPromote asks leader, at each of its peer URLs urls in turn until
// one answers, to promote learner id, and returns once the leader has
// applied the promotion. It returns the leader's refusal as a cairn
// sentinel where it names one (cairn.ErrLearnerNotReady...), ctx's error
// when ctx ended before any URL answered, and else why the last URL could
// not be asked.
func (t *Transport) ForwardPromote(ctx context.Context, leader uint64, urls []string, id uint64) error {
	var last error
	for _, u := range urls {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(u, "/")+"/members/promote/"+strconv.FormatUint(id, 10), nil)
		t.setHeaders(req.Header, leader)
		resp, err := t.client.Do(req)
		if err != nil {
			last = err
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		return promoteError(strings.TrimSpace(string(body)))
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("forwarding the promotion to the leader: %w", last)
}

// promoteErrors are the errors a leader's promotion may answer; they cross
// the peer transport as their text.
var promoteErrors = []error{
	cairn.ErrLearnerNotReady, cairn.ErrMemberNotLearner, cairn.ErrMemberNotFound, cairn.ErrMemberRemoved,
	cairn.ErrNotEnoughStartedMembers, cairn.ErrUnhealthy, cairn.ErrNoLeader, cairn.ErrTimeout, cairn.ErrStopped,
}

func promoteError(msg string) error {
	for _, e := range promoteErrors {
		if e.Error() == msg {
			return e
		}
	}
	return errors.New(msg)
}

// servePromote is the leader's side of a forwarded promotion.
func (t *Transport) servePromote(w http.ResponseWriter, r *http.Request) {
	if _, ok := t.checkPeer(w, r); !ok {
		return
	}
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, cairn.ErrMemberNotFound.Error(), http.StatusNotFound)
		return
	}
	if err := t.member.Promote(r.Context(), id); err != nil {
		http.Error(w, err.Error(), http.StatusPreconditionFailed)
		return
	}
	w.WriteHeader(http.StatusOK)
}
