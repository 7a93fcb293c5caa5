#!/usr/bin/python3
"""tenfold-server and the reference engine's llama-server side by side, under concurrent load.

Starts each server in turn on the same model (tenfold-server, then llama-server from
../shared/peer/llama.cpp-b4748, alternating for --rounds rounds), lets N client threads each send
--requests streaming greedy completions of exactly --tokens tokens (ignore_eos, which both servers
accept) to /v1/completions, and reports per server the aggregate generated tokens per second
(all clients' tokens over the wall time of the round) and the time to first token, p50 and p99,
measured by the client from sending the request to the first text chunk. The last line is the
ratio tenfold / reference. Only the Python standard library is used.

The reference server runs as its README suggests: -np 16 -c 8192 -t THREADS, i.e. 16 slots of
8192/16 = 512 positions each; tenfold-server gets the same: --parallel 16 --ctx 512 -t THREADS.
Machines are shared and noisy: compare only figures from one run, and repeat.

--mpi 2,3 adds, in each round, `mpirun -np N tenfold-worker serve` (the HTTP front end on rank 0,
whole-model replicas on ranks 1..N-1, --mpi-threads threads each) under the same load, so the
data-parallel cluster is measured in the same run as the single process. --mpi-pipeline 2,3 does
the same for `tenfold-worker serve --pipeline` (the layers split over N ranks, rank 0 also the
front end and the scheduler), with --micro-batch N when given.

Usage:
  /usr/bin/python3 tools/bench_server.py [--model ../shared/models/tenfold-ref-main-f16.gguf]
      [--server build/app/server/tenfold-server] [--peer ../shared/peer/llama.cpp-b4748]
      [--clients 8] [--requests 2] [--tokens 64] [--threads 2] [--rounds 1]
      [--mpi 2,3 --worker build/app/worker/tenfold-worker --mpi-threads 1]
      [--mpi-pipeline 2,3 [--micro-batch N]]
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

PROMPTS = [
    "Once upon a time", "The jury said that", "In the morning the", "She looked at the",
    "The old man", "It was a cold", "They went to the", "When the rain",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(proc, port, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited with code %d before it was ready" % proc.returncode)
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/health")
            r = c.getresponse()
            r.read()
            if r.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server was not ready after %d s" % timeout)


def one_request(port, prompt, tokens):
    """One streaming completion; (time to first token in s, generated tokens)."""
    body = json.dumps({"prompt": prompt, "max_tokens": tokens, "temperature": 0, "stream": True,
                       "ignore_eos": True, "stream_options": {"include_usage": True}})
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    c.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        raise RuntimeError("HTTP %d: %s" % (r.status, r.read()[:300]))
    ttft, chunks, usage, finish = None, 0, None, None
    for raw in r:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        d = json.loads(line[6:])
        if d.get("usage"):
            usage = d["usage"]["completion_tokens"]
        for ch in d.get("choices", []):
            if ch.get("text"):
                chunks += 1
                if ttft is None:
                    ttft = time.perf_counter() - start
            if ch.get("finish_reason"):
                finish = ch["finish_reason"]
    c.close()
    # Usage when the server sends it; else a run to the length limit made exactly `tokens`.
    generated = usage if usage is not None else (tokens if finish == "length" else chunks)
    return (ttft if ttft is not None else time.perf_counter() - start), generated


def load(port, clients, requests, tokens):
    results, errors = [], []
    lock = threading.Lock()

    def client(i):
        for k in range(requests):
            try:
                r = one_request(port, PROMPTS[(i + k) % len(PROMPTS)], tokens)
                with lock:
                    results.append(r)
            except Exception as e:  # reported, not fatal: the summary says how many failed
                with lock:
                    errors.append(str(e))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return results, errors, wall


def percentile(values, q):
    v = sorted(values)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, int(round(q / 100.0 * (len(v) - 1))))]


MPIRUN = ["mpirun", "--oversubscribe", "--bind-to", "none", "--enable-recovery", "--mca", "btl", "self,vader",
          "--mca", "btl_vader_single_copy_mechanism", "none", "--mca", "oob_tcp_if_include", "lo",
          "--mca", "btl_tcp_if_include", "lo"]


def mpi_env():
    env = dict(os.environ)
    if os.getuid() == 0:  # Open MPI refuses root unless told twice
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    return env


def run_server(name, cmd, port, args):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=mpi_env())
    try:
        wait_ready(proc, port)
        results, errors, wall = load(port, args.clients, args.requests, args.tokens)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    tokens = sum(g for _, g in results)
    ttfts = [t * 1000 for t, _ in results]
    return {"name": name, "tokens": tokens, "wall_s": wall, "tokens_per_s": tokens / wall if wall else 0,
            "ttft_p50_ms": percentile(ttfts, 50), "ttft_p99_ms": percentile(ttfts, 99),
            "requests": len(results), "errors": errors}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="../shared/models/tenfold-ref-main-f16.gguf")
    ap.add_argument("--server", default="build/app/server/tenfold-server")
    ap.add_argument("--peer", default="../shared/peer/llama.cpp-b4748")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=2, help="requests per client, one after the other")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--mpi", default="", help="comma-separated rank counts for tenfold-worker serve")
    ap.add_argument("--worker", default="build/app/worker/tenfold-worker")
    ap.add_argument("--mpi-threads", type=int, default=1, help="threads per replica rank")
    ap.add_argument("--mpi-pipeline", default="",
                    help="comma-separated rank counts for tenfold-worker serve --pipeline (layers split)")
    ap.add_argument("--micro-batch", type=int, default=0, help="--micro-batch for the pipeline (0: its default)")
    args = ap.parse_args()

    peer_tool = os.path.join(args.peer, "llama-server")
    have_peer = os.path.exists(peer_tool)
    if not have_peer:
        print("reference server missing (%s): measuring tenfold-server alone" % peer_tool, file=sys.stderr)

    rows = []
    for _ in range(args.rounds):
        port = free_port()
        rows.append(run_server("tenfold", [args.server, args.model, "--port", str(port), "--parallel", "16",
                                           "--ctx", "512", "-t", str(args.threads), "--no-ledger",
                                           # repeated prompts must be computed, as the reference does
                                           "--response-cache", "off"], port, args))
        for n in [int(x) for x in args.mpi.split(",") if x]:
            port = free_port()
            rows.append(run_server("tenfold MPI %d ranks" % n,
                                   MPIRUN + ["-np", str(n), args.worker, "serve", args.model, "--port", str(port),
                                             "--parallel", "16", "--ctx", "512", "-t", str(args.mpi_threads),
                                             "--no-ledger", "--response-cache", "off"], port, args))
        for n in [int(x) for x in args.mpi_pipeline.split(",") if x]:
            port = free_port()
            extra = ["--micro-batch", str(args.micro_batch)] if args.micro_batch > 0 else []
            # A pipeline runs without --enable-recovery: a lost stage ends the job.
            rows.append(run_server("tenfold MPI pipeline %d ranks" % n,
                                   [a for a in MPIRUN if a != "--enable-recovery"] +
                                   ["-np", str(n), args.worker, "serve", args.model, "--pipeline", "--port", str(port),
                                    "--parallel", "16", "--ctx", "512", "-t", str(args.mpi_threads),
                                    "--no-ledger", "--response-cache", "off"] + extra, port, args))
        if have_peer:
            port = free_port()
            rows.append(run_server("reference", [peer_tool, "-m", args.model, "--port", str(port), "-np", "16",
                                                 "-c", "8192", "-t", str(args.threads)], port, args))

    print("| server | requests | tokens | wall s | tokens/s | TTFT p50 ms | TTFT p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %d | %d | %.2f | %.1f | %.1f | %.1f | %d |" % (
            r["name"], r["requests"], r["tokens"], r["wall_s"], r["tokens_per_s"], r["ttft_p50_ms"],
            r["ttft_p99_ms"], len(r["errors"])))
    for r in rows:
        for e in r["errors"][:3]:
            print("%s error: %s" % (r["name"], e), file=sys.stderr)
    if have_peer:
        ours = statistics.median(r["tokens_per_s"] for r in rows if r["name"] == "tenfold")
        theirs = statistics.median(r["tokens_per_s"] for r in rows if r["name"] == "reference")
        ttft_ours = statistics.median(r["ttft_p50_ms"] for r in rows if r["name"] == "tenfold")
        ttft_theirs = statistics.median(r["ttft_p50_ms"] for r in rows if r["name"] == "reference")
        print("\ntenfold / reference: %.2fx tokens/s, TTFT p50 %.2fx (lower is better)" % (
            ours / theirs if theirs else float("nan"), ttft_ours / ttft_theirs if ttft_theirs else float("nan")))
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
