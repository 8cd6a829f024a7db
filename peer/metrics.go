package peer

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the transport's Prometheus metrics, under etcd 3.4's names,
// labels and help, so etcd's dashboards and alert rules read them. Peers
// are labelled with their member id in hex, as etcd labels them.
type metrics struct {
	sent     *prometheus.CounterVec   // bytes written to each peer's stream
	received *prometheus.CounterVec   // bytes read from each peer's stream
	failures *prometheus.CounterVec   // messages that could not be sent
	rtt      *prometheus.HistogramVec // heartbeat round trips, on the leader
}

func newMetrics() *metrics {
	counters := func(name, help, label string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label})
	}
	return &metrics{
		sent:     counters("etcd_network_peer_sent_bytes_total", "The total number of bytes sent to peers.", "To"),
		received: counters("etcd_network_peer_received_bytes_total", "The total number of bytes received from peers.", "From"),
		failures: counters("etcd_network_peer_sent_failures_total", "The total number of send failures from peers.", "To"),
		rtt: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "etcd_network_peer_round_trip_time_seconds",
			Help:    "Round-Trip-Time histogram between peers",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"To"}),
	}
}

// Collectors returns the transport's metrics, for the member to register:
// bytes sent to and received from each peer, messages that could not be
// sent, and the round trip of the heartbeats this member sends while it
// leads (etcd measures the round trip with a probe every few seconds from
// every member; a heartbeat round trip crosses the same stream raft's
// messages take).
func (t *Transport) Collectors() []prometheus.Collector {
	m := t.metrics
	return []prometheus.Collector{m.sent, m.received, m.failures, m.rtt}
}

func peerLabel(id uint64) string { return strconv.FormatUint(id, 16) }

// peerMetrics are one peer's series, resolved once so that each write and
// each drop costs one atomic add.
type peerMetrics struct {
	sent, failures prometheus.Counter
}

func (m *metrics) forPeer(id uint64) peerMetrics {
	l := peerLabel(id)
	return peerMetrics{sent: m.sent.WithLabelValues(l), failures: m.failures.WithLabelValues(l)}
}

// streamMetrics are the series a received stream feeds.
type streamMetrics struct {
	received prometheus.Counter
	rtt      prometheus.Observer
}

func (m *metrics) forStream(from uint64) streamMetrics {
	l := peerLabel(from)
	return streamMetrics{received: m.received.WithLabelValues(l), rtt: m.rtt.WithLabelValues(l)}
}

// forget drops the series of member id, which left the cluster.
func (m *metrics) forget(id uint64) {
	l := peerLabel(id)
	m.sent.DeleteLabelValues(l)
	m.received.DeleteLabelValues(l)
	m.failures.DeleteLabelValues(l)
	m.rtt.DeleteLabelValues(l)
}
