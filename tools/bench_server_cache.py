#!/usr/bin/python3
"""Caching through the server, side by side with the reference engine's llama-server.

1. Prefix reuse: a long shared system prompt (about --system-tokens tokens) followed by short user
   turns, one request at a time (max_tokens --tokens, greedy). Each server answers --turns
   requests; the first is cold, the rest can reuse the system prompt's keys and values. Reported
   per server: the cold TTFT and the median warm TTFT. Servers: tenfold-server (prefix KV cache
   on, the default), tenfold-server --no-prefix-cache (the same engine recomputing every prompt),
   and llama-server -np 16 -c 8192 with its prompt cache (cache_prompt, on by default). Targets
   (issue 12): warm TTFT with the cache >= 10x faster than without, and not slower than the
   reference's.
2. Exact response-cache hits: the same deterministic non-streaming request --hits times against
   tenfold-server (response cache on): latency p50/p99 of the repeats (target p50 < 5 ms).

The response cache is off for part 1 (--response-cache off), so only the KV cache is measured.
Usage: /usr/bin/python3 tools/bench_server_cache.py [--model M] [--threads 2] [--turns 8]
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_server import free_port, percentile, wait_ready  # noqa: E402

SYSTEM = ("You are the archivist of a small river town. The town began with a mill on the river, a "
          "church, a school and a market where farmers sold grain, wool and cheese every week of the "
          "year. The people who lived there kept records of every flood, every harvest and every "
          "wedding, and the archivist answers questions about them carefully and briefly. ")
TURNS = ["When was the mill built?", "Who ran the school?", "What did the market sell?",
         "How often did the river flood?", "Who kept the records?", "What was the church called?",
         "Where did the farmers live?", "What happened in the great flood?", "Who was the first mayor?",
         "How big was the town?"]


def post(port, path, body, stream):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    ttft = None
    if stream:
        for raw in r:
            line = raw.decode("utf-8", "replace").strip()
            if line.startswith("data: {") and ttft is None:
                d = json.loads(line[6:])
                if any(ch.get("text") for ch in d.get("choices", [])):
                    ttft = time.perf_counter() - start
    else:
        r.read()
    total = time.perf_counter() - start
    c.close()
    if r.status != 200:
        raise RuntimeError("HTTP %d" % r.status)
    return (ttft if ttft is not None else total), total


def start(cmd, port):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(proc, port)
    return proc


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def prefix_run(name, cmd, port, system, args):
    proc = start(cmd, port)
    try:
        ttfts = []
        for i in range(args.turns):
            prompt = system + "\nQuestion: " + TURNS[i % len(TURNS)] + "\nAnswer:"
            body = {"prompt": prompt, "max_tokens": args.tokens, "temperature": 0, "stream": True,
                    "cache_prompt": True}
            ttfts.append(post(port, "/v1/completions", body, True)[0] * 1000)
    finally:
        stop(proc)
    return {"name": name, "cold": ttfts[0], "warm": statistics.median(ttfts[1:]), "all": ttfts}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="../shared/models/tenfold-ref-main-f16.gguf")
    ap.add_argument("--server", default="build/app/server/tenfold-server")
    ap.add_argument("--peer", default="../shared/peer/llama.cpp-b4748")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--system-tokens", type=int, default=400)
    ap.add_argument("--turns", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=8)
    ap.add_argument("--hits", type=int, default=50)
    args = ap.parse_args()

    # About 4 characters per token for these models' tokenizers; the server reports the count.
    system = SYSTEM
    while len(system) < args.system_tokens * 4:
        system += SYSTEM
    peer_tool = os.path.join(args.peer, "llama-server")
    common = ["-t", str(args.threads)]
    rows = []
    p = free_port()
    rows.append(prefix_run("tenfold (prefix cache)", [args.server, args.model, "--port", str(p), "--parallel", "16",
                                                      "--ctx", "512", "--no-ledger", "--response-cache", "off"] + common,
                           p, system, args))
    p = free_port()
    rows.append(prefix_run("tenfold --no-prefix-cache", [args.server, args.model, "--port", str(p), "--parallel", "16",
                                                         "--ctx", "512", "--no-ledger", "--response-cache", "off",
                                                         "--no-prefix-cache"] + common, p, system, args))
    if os.path.exists(peer_tool):
        p = free_port()
        rows.append(prefix_run("reference (prompt cache)", [peer_tool, "-m", args.model, "--port", str(p), "-np", "16",
                                                            "-c", "8192"] + common, p, system, args))
    else:
        print("reference server missing (%s)" % peer_tool, file=sys.stderr)
    print("Prefix reuse: ~%d-token system prompt + short question, %d requests one at a time\n" % (
        args.system_tokens, args.turns))
    print("| server | cold TTFT ms | warm TTFT ms (median) |")
    print("|---|---:|---:|")
    for r in rows:
        print("| %s | %.1f | %.1f |" % (r["name"], r["cold"], r["warm"]))
    print("\nwarm TTFT without / with the prefix cache: %.1fx" % (rows[1]["warm"] / rows[0]["warm"]))
    if len(rows) > 2:
        print("warm TTFT tenfold / reference: %.2fx (lower is better)" % (rows[0]["warm"] / rows[2]["warm"]))

    # Exact response-cache hits.
    p = free_port()
    proc = start([args.server, args.model, "--port", str(p), "--no-ledger"] + common, p)
    try:
        body = {"prompt": "The jury said that", "max_tokens": 32, "temperature": 0}
        first = post(p, "/v1/completions", body, False)[1] * 1000
        hits = [post(p, "/v1/completions", body, False)[1] * 1000 for _ in range(args.hits)]
    finally:
        stop(proc)
    print("\nExact response-cache hits (non-streaming, 32-token answer): computed %.1f ms; %d hits p50 %.2f ms, "
          "p99 %.2f ms" % (first, len(hits), percentile(hits, 50), percentile(hits, 99)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
