#!/usr/bin/python3
"""Tenfold and the reference engine side by side, in one run, on the same files and threads.

For each model and thread count, alternates `tenfold-cli bench --json` and the reference
engine's `llama-bench -o json` (../shared/peer/llama.cpp-b4748) for the given number of rounds,
each round one prompt-processing and one decode measurement per engine, and prints a Markdown
table of the medians with the ratio Tenfold / reference. Machines are shared and noisy: the
alternation puts both engines under the same conditions, the median drops outliers.

Usage:
  tools/bench_vs_peer.py [--cli build/app/cli/tenfold-cli] [--peer DIR] [--threads 1,2]
                         [--rounds 3] [-p 512] [-n 128] [--kernels avx2] [--memory]
                         [--peer-variant haswell] MODEL.gguf...

--kernels sets TENFOLD_CPU_KERNELS for Tenfold's runs (scalar, avx2, avx512); --memory also
measures the read bandwidth with Tenfold's threads and adds decode GB/s as a share of it. Without
the reference engine the script says so and prints Tenfold's figures alone.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)


def tenfold(cli, model, threads, p, n, kernels, memory):
    env = dict(os.environ)
    if kernels:
        env["TENFOLD_CPU_KERNELS"] = kernels
    cmd = [cli, "bench", model, "-p", str(p), "-n", str(n), "-r", "1", "--threads", str(threads), "--json"]
    if memory:
        cmd.append("--memory")
    d = run_json(cmd, env)
    speeds = {r["test"][:2]: r["tokens_per_s"] for r in d["results"]}
    return speeds, d


def peer(tool, model, threads, p, n):
    cmd = [tool, "-m", model, "-t", str(threads), "-p", str(p), "-n", str(n), "-r", "1", "-o", "json"]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    d = json.loads(done.stdout)
    loaded = re.search(r"loaded CPU backend from \S*libggml-cpu-(\w+)\.so", done.stderr)
    speeds = {"variant": loaded.group(1) if loaded else "?"}
    for r in d:
        key = "pp" if r.get("n_prompt", 0) > 0 else "tg"
        speeds[key] = r["avg_ts"]
    return speeds


def peer_variant_folder(peer_dir, variant):
    """A temporary copy of the reference's llama-bench whose only CPU library is `variant`'s."""
    lib = f"libggml-cpu-{variant}.so"
    if not os.path.exists(os.path.join(peer_dir, lib)):
        sys.exit(f"--peer-variant {variant}: {peer_dir} has no {lib}")
    folder = tempfile.mkdtemp(prefix=f"peer-{variant}-")
    for name in ("llama-bench", "libggml-base.so", "libggml.so", "libllama.so", lib):
        shutil.copy2(os.path.join(peer_dir, name), folder)
    return folder


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--cli", default="build/app/cli/tenfold-cli")
    ap.add_argument("--peer", default="../shared/peer/llama.cpp-b4748")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("--kernels", default="")
    ap.add_argument("--memory", action="store_true")
    ap.add_argument("--peer-variant", default="")
    a = ap.parse_args()

    tool = os.path.join(a.peer, "llama-bench")
    have_peer = os.path.exists(tool)
    if not have_peer:
        print(f"reference engine not found at {tool}: Tenfold's figures only", file=sys.stderr)
    variant_folder = ""
    if have_peer and a.peer_variant:
        variant_folder = peer_variant_folder(a.peer, a.peer_variant)
        tool = os.path.join(variant_folder, "llama-bench")
    try:
        return measure(a, tool, have_peer)
    finally:
        if variant_folder:
            shutil.rmtree(variant_folder, ignore_errors=True)


def measure(a, tool, have_peer):
    rows = []
    for model in a.models:
        for threads in [int(t) for t in a.threads.split(",")]:
            ours = {"pp": [], "tg": []}
            theirs = {"pp": [], "tg": []}
            level, memory, variant = "", 0.0, "-"
            for _ in range(a.rounds):
                s, d = tenfold(a.cli, model, threads, a.p, a.n, a.kernels, a.memory)
                level = d["backend"]
                memory = max(memory, d.get("memory_read_gb_per_s", 0.0))
                weight_bytes = d["weight_bytes"]
                for k in ours:
                    ours[k].append(s.get(k, 0.0))
                if have_peer:
                    s = peer(tool, model, threads, a.p, a.n)
                    variant = s["variant"]
                    for k in theirs:
                        theirs[k].append(s.get(k, 0.0))
            for k, size in (("pp", a.p), ("tg", a.n)):
                o = statistics.median(ours[k])
                t = statistics.median(theirs[k]) if have_peer else 0.0
                gbs = weight_bytes * o / 1e9 if k == "tg" else 0.0
                rows.append((os.path.basename(model), f"{k}{size}", threads, level, o, t, gbs, memory, variant))
    print("| model | test | threads | Tenfold t/s | reference t/s | ratio | decode GB/s (% of read bw) | Tenfold kernels | reference variant |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model, test, threads, level, o, t, gbs, memory, variant in rows:
        ratio = f"{o / t:.2f}" if t > 0 else "-"
        bw = f"{gbs:.1f}" + (f" ({100 * gbs / memory:.0f}%)" if memory > 0 and gbs > 0 else "") if gbs > 0 else "-"
        print(f"| {model} | {test} | {threads} | {o:.1f} | {t:.1f} | {ratio} | {bw} | {level} | {variant} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
