package main

import (
	"fmt"
	"strings"
)

// This file owns the watch section of the report: its fields (JSON) and its
// text.

// WatchReport is the watch-latency part of a Report. Latencies are
// milliseconds; counts are events (one per watcher per put).
type WatchReport struct {
	Transport         string `json:"transport"`
	Watchers          int    `json:"watchers"`
	Streams           int    `json:"streams"`
	WatchersPerStream int    `json:"watchers_per_stream"`
	// Puts is the number of puts acknowledged; every watcher should see
	// each of them once: EventsExpected = Puts * Watchers.
	Puts           uint64 `json:"puts"`
	EventsExpected uint64 `json:"events_expected"`
	EventsReceived uint64 `json:"events_received"`
	// Missing counts expected events not received by the end of the drain;
	// OutOfOrder events whose revision was not above the watcher's last.
	Missing    uint64 `json:"missing"`
	OutOfOrder uint64 `json:"out_of_order"`
	// EventsPerSecond is EventsReceived over the time from the first put to
	// the last event received.
	EventsPerSecond float64 `json:"events_per_second"`
	// AckToEventMs is the latency from the moment the put's answer was read
	// to the moment an event of it was received, per event. An event that
	// came before its put's answer counts 0 and is counted in EarlyEvents.
	AckToEventMs Latency `json:"ack_to_event_ms"`
	EarlyEvents  uint64  `json:"early_events"`
	// SendToEventMs is the latency from the moment the put was sent.
	SendToEventMs Latency `json:"send_to_event_ms"`
	// ServerMaxRSSMiB is the largest resident set of --server-pid sampled
	// during the run (Linux), 0 if not asked.
	ServerMaxRSSMiB float64 `json:"server_max_rss_mib"`
	// Drained is false when the drain timeout ended the wait for the last
	// events.
	Drained bool `json:"drained"`

	// errors go to the report's Errors, prefixed "watch: ".
	errors map[string]uint64
}

// writeText appends the watch section of the text report.
func (w *WatchReport) writeText(b *strings.Builder) {
	fmt.Fprintf(b, "\nWatchers:    %d over %d %s streams (%d per stream)\n", w.Watchers, w.Streams, w.Transport, w.WatchersPerStream)
	fmt.Fprintf(b, "Events:      %d received of %d expected (%d puts); %d missing, %d out of order\n",
		w.EventsReceived, w.EventsExpected, w.Puts, w.Missing, w.OutOfOrder)
	fmt.Fprintf(b, "Delivered:   %.1f events/s\n", w.EventsPerSecond)
	if !w.Drained {
		b.WriteString("             (drain timeout: stopped waiting for the last events)\n")
	}
	if w.ServerMaxRSSMiB > 0 {
		fmt.Fprintf(b, "Server RSS:  %.1f MiB max\n", w.ServerMaxRSSMiB)
	}
	fmt.Fprintf(b, "\nPut acknowledged -> event (ms), %d events before their put's answer counted 0:\n", w.EarlyEvents)
	writeLatency(b, w.AckToEventMs)
	b.WriteString("\nPut sent -> event (ms):\n")
	writeLatency(b, w.SendToEventMs)
}
