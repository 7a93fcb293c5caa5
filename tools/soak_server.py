#!/usr/bin/python3
"""Soak test for tenfold-server (not in CI): --clients concurrent clients for --minutes, each sending
streaming and non-streaming chat and text completions one after another (greedy and sampled, a few
cancelled mid-stream by closing the connection), while the server's resident memory (VmRSS) is
sampled every 10 s. Passes when no request failed and the RSS after the first minute grows by
less than --max-growth-mb.

Usage: /usr/bin/python3 tools/soak_server.py [--model M] [--clients 64] [--minutes 10] [--threads 2]
"""
import argparse
import http.client
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_server import free_port, wait_ready  # noqa: E402

import subprocess


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def client(port, stop_at, rng, stats, lock):
    prompts = ["Once upon a time", "The jury said that", "Tell me about the river.", "In the morning the",
               "Scientists have found", "The old man walked"]
    while time.time() < stop_at:
        kind = rng.random()
        stream = rng.random() < 0.5
        body = {"max_tokens": rng.randint(4, 48), "temperature": rng.choice([0, 0.8]), "stream": stream}
        if kind < 0.5:
            path = "/v1/chat/completions"
            body["messages"] = [{"role": "user", "content": rng.choice(prompts)}]
        else:
            path = "/v1/completions"
            body["prompt"] = rng.choice(prompts)
        vanish = stream and rng.random() < 0.05
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            r = c.getresponse()
            if vanish:
                r.read(64)
                c.close()  # the server must cancel the request and go on
                with lock:
                    stats["vanished"] += 1
                continue
            data = r.read()
            c.close()
            ok = r.status == 200 and (b"[DONE]" in data if stream else b'"choices"' in data)
            with lock:
                stats["ok" if ok else "failed"] += 1
                if not ok and len(stats["errors"]) < 5:
                    stats["errors"].append("%d %s" % (r.status, data[:200]))
        except Exception as e:  # counted, the run goes on
            with lock:
                stats["failed"] += 1
                if len(stats["errors"]) < 5:
                    stats["errors"].append(str(e))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="../shared/models/tenfold-ref-main-f16.gguf")
    ap.add_argument("--server", default="build/app/server/tenfold-server")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-growth-mb", type=float, default=16)
    args = ap.parse_args()
    port = free_port()
    proc = subprocess.Popen([args.server, args.model, "--port", str(port), "--parallel", "16", "--ctx", "512",
                             "--max-queue", "256", "-t", str(args.threads), "--no-ledger"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(proc, port)
    stats = {"ok": 0, "failed": 0, "vanished": 0, "errors": []}
    lock = threading.Lock()
    stop_at = time.time() + args.minutes * 60
    threads = [threading.Thread(target=client, args=(port, stop_at, random.Random(i), stats, lock))
               for i in range(args.clients)]
    start = time.time()
    for t in threads:
        t.start()
    samples = []
    while time.time() < stop_at:
        time.sleep(10)
        samples.append((time.time() - start, rss_mb(proc.pid)))
        print("%6.0f s  RSS %.1f MB  ok %d  failed %d  vanished %d" % (
            samples[-1][0], samples[-1][1], stats["ok"], stats["failed"], stats["vanished"]), flush=True)
    for t in threads:
        t.join()
    alive = proc.poll() is None
    proc.terminate()
    proc.wait(timeout=60)
    after_first = [m for s, m in samples if s >= 60]
    growth = (max(after_first) - after_first[0]) if after_first else 0.0
    print("\nclients %d, %.1f min: %d requests ok, %d failed, %d vanished clients; server alive to the end: %s" % (
        args.clients, args.minutes, stats["ok"], stats["failed"], stats["vanished"], alive))
    print("RSS after the first minute: %.1f MB -> max %.1f MB (growth %.1f MB, limit %.1f)" % (
        after_first[0] if after_first else 0, max(after_first) if after_first else 0, growth, args.max_growth_mb))
    for e in stats["errors"]:
        print("error: %s" % e)
    return 0 if stats["failed"] == 0 and alive and growth < args.max_growth_mb else 1


if __name__ == "__main__":
    sys.exit(main())
