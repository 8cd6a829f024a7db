// Command cairn-bench drives load against any server that speaks etcd's v3
// JSON gateway API over plain HTTP (cairn, or a real etcd 3.4+) and reports
// throughput and latency, in the spirit of etcd's tools/benchmark.
//
// # Usage
//
//	cairn-bench [workload] [flags]
//
//	cairn-bench put --endpoints http://127.0.0.1:2379 --clients 64 \
//	    --total 20000 --val-size 256 --key-space-size 100000
//	cairn-bench range --consistency s --duration 10s --clients 16
//	cairn-bench txn-put --rate 500 --total 5000 --output json
//	cairn-bench watch-latency --watchers 1000 --watchers-per-stream 10 \
//	    --clients 16 --rate 1000 --duration 10s --prefix w/ --key-space-size 1000
//	cairn-bench lease-grant --clients 64 --total 20000 --lease-ttl 600
//	cairn-bench lease-keepalive --key-space-size 10000 --sequential-keys \
//	    --clients 64 --total 50000 --lease-ttl 600
//	cairn-bench lease-expiry --leases 100000 --lease-ttl 120 --clients 16 \
//	    --rate 500 --total 0 --duration 10m --key-space-size 10000
//
// The workload is the first argument or --workload. Each flag can also be
// set through the environment as CAIRN_BENCH_<FLAG> with dashes as
// underscores (CAIRN_BENCH_KEY_SPACE_SIZE=1000); a flag on the command line
// wins over the environment.
//
// # Workloads
//
//   - put: POST /v3/kv/put {key, value}.
//   - range: POST /v3/kv/range {key} for one key, linearizable
//     (--consistency l, the default) or serializable (--consistency s). An
//     answer without kvs is a success, counted under the note
//     "empty range (key absent)".
//   - txn-put: POST /v3/kv/txn with no compares and one put in the success
//     branch. An answer whose succeeded is not true is a success, noted
//     "txn took the failure branch".
//   - grpc-put, grpc-range, grpc-txn-put: the same three requests sent
//     to the gRPC API (etcd's KV.Put, KV.Range, KV.Txn) through etcd's Go
//     client, go.etcd.io/etcd/client/v3, as etcd's own benchmark tool
//     sends them: --conns clientv3 clients (one gRPC connection each,
//     spread round-robin over --endpoints) shared by the --clients
//     goroutines; grpc-range honours --consistency. A failure is counted
//     under "gRPC: " and etcd's message. Their runner is
//     workload_grpc.go; --http-client does not apply (the report says
//     grpc).
//   - watch-latency: --watchers watchers of every key under --prefix,
//     --watchers-per-stream of them on each watch stream (a POST /v3/watch
//     with that many create requests in its body, or with --watch-transport
//     ws a websocket on the same path), spread over --endpoints; once all
//     are created, --clients writers put keys under the prefix (at --rate,
//     for --total or --duration, as the put workload). Each value starts
//     with the time its put was sent. The requests of the report are the
//     puts; its watch section counts the events (every watcher must see
//     every acknowledged put once, in revision order: missing and
//     out-of-order events are counted), events/s delivered, and two
//     latencies per event: from the put's answer (the revision it names)
//     to the event's arrival (an event that arrives before its put's
//     answer counts 0, and is counted as early), and from the put's
//     sending. After the last put the run waits up to --drain-timeout for
//     the last events. --server-pid samples a local server's resident
//     memory. It has its own runner (workload_watch.go): it is not one
//     request and one answer. Compare with etcd's "benchmark
//     watch-latency", which measures from the put's sending over gRPC.
//   - lease-grant: POST /v3/lease/grant {TTL: --lease-ttl}; the answer
//     must name the lease's ID. Keys are not used; the leases are left to
//     expire.
//   - lease-keepalive: --key-space-size leases are granted first (TTL
//     --lease-ttl, --clients at a time, before the clock starts and not
//     counted); then each request renews the lease of its key number with a
//     one-shot POST /v3/lease/keepalive {ID} (the gateway's keepalive stream
//     with one request in its body). An answer without a TTL (the lease
//     expired) is a failure, "keepalive answered without a TTL": pick a
//     --lease-ttl longer than a lease may wait between two renewals.
//   - lease-expiry: --leases leases (TTL --lease-ttl) are granted and each
//     gets one key under <prefix>lease/ (transactions of 100 puts), before
//     the clock starts; then --clients writers put keys as the put workload
//     does while the leases expire, until the last lease key is gone and
//     --lease-tail more has passed (or --duration/--total ends the run). A
//     poller counts the lease keys every 100ms; each put counts in the phase
//     its sending falls in (before the first lease key went, during, after
//     the last), and the report's lease_expiry section gives each phase's
//     latency and how fast the keys went. It has its own runner.
//
// A workload is one small file (workload_<name>.go) holding a value of type
// workload plus one line in the workloads table of workload.go; a workload
// that is not request/answer brings its own runner (workload.run).
//
// # Keys and values
//
// Key number i is the --prefix followed by i in decimal, zero-padded to
// --key-size bytes; --key-size must have room for key-space-size-1. With
// --sequential-keys request number n (counted over all clients, from 0)
// uses key n mod key-space-size; otherwise every request picks a key
// uniformly at random in [0, key-space-size) from its client's generator.
// The value is --val-size pseudo-random bytes made once per run and shared
// by every request (the v2 workloads send them as as many letters and
// digits: v2 values are text). Both come from --seed (0 picks one; the report shows
// it).
//
// # Load
//
// --clients goroutines each send one request at a time. Clients are spread
// round-robin over --endpoints, and so are the --conns HTTP/1.1 keep-alive
// connections, so endpoint e gets about clients/E requesters sharing about
// conns/E connections. The run stops after --total requests or after
// --duration, whichever comes first (with --duration alone it is not
// limited by count). --rate caps the requests started per second over all
// clients; request n is not started before start + n/rate. Latency is
// measured from just before a request is sent to when its whole answer has
// been read; the first request on each connection includes the TCP connect,
// and with fewer connections than clients it includes the wait for a free
// connection. Proxy environment variables are ignored.
//
// # HTTP client
//
// --http-client raw (the default) sends the requests of the request/answer
// workloads (put, range, txn-put, lease-grant, v2-set, v2-get, v2-cas, and
// the puts, polls and set-up of lease-expiry and watch-latency) through a
// lean HTTP/1.1 client (rawclient.go): per endpoint a pool of at most its
// share of --conns keep-alive connections, each request written with one
// write, the answer (Content-Length, chunked, or up to the close; a
// "Connection: close" or HTTP/1.0 answer ends the connection) read into a
// reused buffer. It costs a fraction of net/http's CPU per request, and the
// load tool shares the machine with the server it measures. --http-client
// std uses net/http's Transport instead, to cross-check the two. The
// streams (watch-latency's watches and websockets, and lease-keepalive,
// whose one-shot keepalive is the gateway's keepalive stream) always use
// net/http; --http-client raw with lease-keepalive is refused. The report
// names the client used.
//
// The two clients differ in one place, the retry: net/http notices in the
// background a keep-alive connection the server closed while it was idle;
// the raw client notices it when it sends on it. So a request whose write
// fails, or whose answer ends (EOF or reset) before its first byte, on a
// connection that had served a request before, is sent once more on a new
// connection; a server closes a keep-alive connection between requests, so
// that request had not been taken, and the retry neither loses it nor (short
// of a server that dies after applying a write and before answering it)
// applies it twice. A failure on a new connection, after part of an answer,
// a --timeout, or a second failure is the request's failure.
//
// # Results
//
// A request is a success when the server answered 200 and the workload's
// check of the body passed. Any other outcome is a failure, counted by
// message: for a non-200 answer "HTTP <status>: <etcd error message>", for
// a transport error its text without the local address. Latency statistics
// and the histogram cover successes only; total = succeeded + failed. On
// SIGINT/SIGTERM the run stops early, requests cut short are not counted,
// and the report says interrupted. The report also gives the CPU time
// cairn-bench itself used, to tell whether the client was the limit.
//
// --output text prints a summary for people; --output json prints one
// object (see Report) for scripts. The exit status is 0 whenever a report
// is printed, whatever the failures; 2 for a usage error; 1 when the run
// could not start.
package main
