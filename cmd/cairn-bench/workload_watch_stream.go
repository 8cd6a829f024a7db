package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// This file owns watch-latency's connections: opening the watch streams
// over HTTP or a websocket, creating the watchers and handing each response
// line on to events.

// stream opens one watch stream with n watchers on the prefix, calls ready
// once every watcher is created, and reads events into t until ctx is
// done. Over HTTP the body holds the n creates and ends there: etcd 3.4's
// gateway answers nothing before the request body is complete (its HTTP
// server reads the rest of the body before it sends the headers). Over a
// websocket the creates go one at a time, each after the previous one's
// created response, as etcd's Go client sends them.
func (wr *watchRun) stream(ctx context.Context, base string, n int, t *watchTally, ready func()) error {
	var senders sync.WaitGroup
	defer senders.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	key, end := b64(wr.cfg.Prefix), b64(prefixEnd(wr.cfg.Prefix))
	create := []byte(`{"create_request":{"key":"` + key + `","range_end":"` + end + `"}}`)
	created := 0
	createdc := make(chan struct{}, 1)
	readyOnce := sync.OnceFunc(ready)
	defer readyOnce()
	handle := func(line []byte) {
		now := time.Since(wr.start)
		if created < n {
			if bytes.Contains(line, []byte(`"created":true`)) {
				if created++; created == n {
					readyOnce()
				}
				select {
				case createdc <- struct{}{}:
				default: // over HTTP nobody waits for it
				}
			}
			return
		}
		wr.events(line, now, t)
	}
	// send writes the creates, one per created response, then waits; it
	// runs in a goroutine counted in senders.
	send := func(write func([]byte) error) {
		defer senders.Done()
		for i := range n {
			if i > 0 {
				select {
				case <-createdc:
				case <-ctx.Done():
					return
				}
			}
			if write(create) != nil {
				return
			}
		}
		<-ctx.Done()
	}
	if wr.cfg.WatchTransport == "ws" {
		return wr.streamWS(ctx, base, func(write func([]byte) error) {
			senders.Add(1)
			go send(write)
		}, handle)
	}
	body := bytes.Repeat(create, n)
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/v3/watch", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := watchTransport.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return errors.New(statusMessage(resp.StatusCode, b))
	}
	br := bufio.NewReaderSize(resp.Body, 256<<10)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 && err == nil {
			handle(line)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// watchTransport carries the watch streams: one connection each, no
// timeout on the answer (a stream lasts the whole run), no proxy.
var watchTransport = &http.Transport{
	Proxy:               nil,
	DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConnsPerHost: 1024,
	DisableCompression:  true,
}

// streamWS is stream over a websocket: one message per create request, one
// response per message.
func (wr *watchRun) streamWS(ctx context.Context, base string, startSend func(write func([]byte) error), handle func([]byte)) error {
	url := "ws" + strings.TrimPrefix(base, "http") + "/v3/watch"
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: &http.Client{Transport: watchTransport}})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	c.SetReadLimit(64 << 20)
	startSend(func(b []byte) error { return c.Write(ctx, websocket.MessageText, b) })
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		handle(msg)
	}
}
