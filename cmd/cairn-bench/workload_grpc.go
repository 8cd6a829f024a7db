package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// The gRPC workloads send put, range and txn-put as etcd's own benchmark
// tool does: through etcd's Go client (go.etcd.io/etcd/client/v3) over
// --conns gRPC connections (each one clientv3.Client, spread round-robin
// over --endpoints), shared by --clients goroutines that each send one
// request at a time. Against cairn and etcd alike they go to the gRPC
// API, so they compare the two servers' gRPC paths.
var (
	grpcPutWorkload = &workload{
		name: "grpc-put",
		help: "KV.Put of one key over gRPC (clientv3)",
		run: grpcRunner(func(cfg *Config, value []byte) grpcOp {
			v := string(value)
			return func(ctx context.Context, kv clientv3.KV, key []byte) (string, error) {
				_, err := kv.Put(ctx, string(key), v)
				return "", err
			}
		}),
	}
	grpcRangeWorkload = &workload{
		name:    "grpc-range",
		help:    "KV.Range of one key over gRPC (clientv3; --consistency l|s)",
		options: []string{"consistency"},
		run: grpcRunner(func(cfg *Config, _ []byte) grpcOp {
			var opts []clientv3.OpOption
			if cfg.Consistency == "s" {
				opts = append(opts, clientv3.WithSerializable())
			}
			return func(ctx context.Context, kv clientv3.KV, key []byte) (string, error) {
				r, err := kv.Get(ctx, string(key), opts...)
				if err == nil && len(r.Kvs) == 0 {
					return noteEmptyRange, nil
				}
				return "", err
			}
		}),
	}
	grpcTxnPutWorkload = &workload{
		name: "grpc-txn-put",
		help: "KV.Txn over gRPC (clientv3), no compares, success branch puts one key",
		run: grpcRunner(func(cfg *Config, value []byte) grpcOp {
			v := string(value)
			return func(ctx context.Context, kv clientv3.KV, key []byte) (string, error) {
				r, err := kv.Txn(ctx).Then(clientv3.OpPut(string(key), v)).Commit()
				if err == nil && !r.Succeeded {
					return noteTxnFailure, nil
				}
				return "", err
			}
		}),
	}
)

// grpcOp sends one request for key and returns its note or error.
type grpcOp func(ctx context.Context, kv clientv3.KV, key []byte) (note string, err error)

// grpcRunner is the runner of a gRPC workload: the request loop of Run
// (runner.next paces and ends it, keys as for the HTTP workloads) over
// clientv3 connections instead of HTTP ones.
func grpcRunner(newOp func(cfg *Config, value []byte) grpcOp) func(ctx context.Context, cfg *Config) (*runResult, error) {
	return func(ctx context.Context, cfg *Config) (*runResult, error) {
		cfg.pickSeed()
		value := valueBytes(cfg.Seed, cfg.ValSize)
		conns := make([]*clientv3.Client, cfg.conns())
		defer func() {
			for _, c := range conns {
				if c != nil {
					c.Close()
				}
			}
		}()
		for i := range conns {
			c, err := clientv3.New(clientv3.Config{
				Endpoints:   []string{cfg.Endpoints[i%len(cfg.Endpoints)]},
				DialTimeout: 10 * time.Second,
				TLS:         cfg.tls,
				Logger:      zap.NewNop(),
			})
			if err != nil {
				return nil, fmt.Errorf("connecting to %s: %w", cfg.Endpoints[i%len(cfg.Endpoints)], err)
			}
			conns[i] = c
		}
		r := &runner{cfg: cfg, keys: newKeyGen(cfg), ctx: ctx}
		recs := make([]*recorder, cfg.Clients)
		cpu0, cpuOK := processCPU()
		r.start = time.Now()
		if cfg.Duration > 0 {
			r.deadline = r.start.Add(cfg.Duration)
		}
		var wg sync.WaitGroup
		for i := range recs {
			recs[i] = newRecorder()
			op := newOp(cfg, value)
			kv := conns[i%len(conns)].KV
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1))
			wg.Add(1)
			go func(rec *recorder) {
				defer wg.Done()
				var timer *time.Timer
				var key []byte
				for {
					n, ok := r.next(&timer)
					if !ok {
						return
					}
					key = r.keys.appendKey(key[:0], r.keys.pick(n, rng))
					rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
					start := time.Now()
					note, err := op(rctx, kv, key)
					latency := time.Since(start)
					cancel()
					switch {
					case err != nil && ctx.Err() != nil:
						return // cut short by the interrupt: not counted
					case err != nil:
						rec.fail(grpcMessage(err))
					default:
						rec.succeed(latency, note)
					}
				}
			}(recs[i])
		}
		wg.Wait()
		res := &runResult{rec: newRecorder(), elapsed: time.Since(r.start)}
		if cpu1, _ := processCPU(); cpuOK {
			res.cpu = cpu1 - cpu0
		}
		for _, rec := range recs {
			res.rec.merge(rec)
		}
		return res, nil
	}
}

// grpcMessage is the failure message of a gRPC call: etcd's error text
// when it is one of etcd's, else the status text.
func grpcMessage(err error) string {
	if ee, ok := rpctypes.Error(err).(rpctypes.EtcdError); ok {
		return "gRPC: " + ee.Error()
	}
	return "gRPC: " + err.Error()
}
