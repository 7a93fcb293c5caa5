#!/usr/bin/python3
"""Several Tenfold configurations and the reference engine, alternating in one run.

Each round runs `tenfold-cli bench MODEL -p P -n N -r 1 --json` once per configuration (a name and
environment variables, e.g. "no repack:TENFOLD_Q4_0_REPACK=0"), then the reference engine's
`llama-bench` (../shared/peer/llama.cpp-b4748) on the same file and threads; it prints a Markdown
table of medians, ranges and the ratio to the reference's median. Used for A/B measurements of
one change under the same conditions (docs/BENCHMARKS.md).

Usage:
  tools/bench_configs_vs_peer.py MODEL.gguf [--cli build/app/cli/tenfold-cli] [--peer DIR]
      [--threads 2] [--rounds 3] [-p 512] [-n 128]
      [--config "NAME:VAR=VALUE,VAR=VALUE"]...   (default: one configuration, "Tenfold")
A configuration's CLI=PATH runs that tenfold-cli instead of --cli (a build from before a change).
"""
import argparse
import os
import statistics
import sys

from bench_vs_peer import peer, run_json  # same invocation and parsing of llama-bench


def parse_config(text):
    name, _, assignments = text.partition(":")
    env = {}
    for item in filter(None, assignments.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            sys.exit(f"--config {text!r}: '{item}' is not VAR=VALUE")
        env[key] = value
    return name, env


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--cli", default="build/app/cli/tenfold-cli")
    ap.add_argument("--peer", default="../shared/peer/llama.cpp-b4748")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("--config", action="append", default=[])
    a = ap.parse_args()
    configs = [parse_config(c) for c in a.config] or [("Tenfold", {})]
    tool = os.path.join(a.peer, "llama-bench")
    have_peer = os.path.exists(tool)
    if not have_peer:
        print(f"reference engine not found at {tool}: Tenfold's figures only", file=sys.stderr)
    tests = [t for t, k in (("pp", a.p), ("tg", a.n)) if k > 0]
    results = {}
    for r in range(a.rounds):
        for name, extra in configs:
            env = dict(os.environ)
            env.update({k: v for k, v in extra.items() if k != "CLI"})
            # CLI=PATH in a configuration runs another build (e.g. the one before a change).
            cmd = [extra.get("CLI", a.cli), "bench", a.model, "-p", str(a.p), "-n", str(a.n), "-r", "1", "--threads", str(a.threads), "--json"]
            for x in run_json(cmd, env)["results"]:
                results.setdefault((name, x["test"][:2]), []).append(x["tokens_per_s"])
        if have_peer:
            for key, speed in peer(tool, a.model, a.threads, a.p, a.n).items():
                results.setdefault(("reference", key), []).append(speed)
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr, flush=True)
    print(f"{os.path.basename(a.model)}, {a.threads} thread(s), medians of {a.rounds} rounds\n")
    print("| configuration | test | t/s | range | ratio to reference |")
    print("|---|---|---|---|---|")
    for t in tests:
        size = a.p if t == "pp" else a.n
        ref = statistics.median(results[("reference", t)]) if ("reference", t) in results else None
        for name in [c[0] for c in configs] + (["reference"] if ref else []):
            v = results.get((name, t))
            if not v:
                continue
            m = statistics.median(v)
            ratio = f"{m / ref:.2f}" if ref else "-"
            print(f"| {name} | {t}{size} | {m:.1f} | {min(v):.1f}-{max(v):.1f} | {ratio} |")


if __name__ == "__main__":
    main()
