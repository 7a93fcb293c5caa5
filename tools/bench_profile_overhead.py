#!/usr/bin/python3
"""What the Profiler's per-op timing costs: `tenfold-cli bench` with and without --profile, run
alternately in one session (ABAB... so drift in machine load hits both alike), and optionally the
same without --profile from another build (e.g. main's, before this change) for "nothing when off".

Prints, per test (ppN, tgN), the mean tokens/s of each variant over the rounds and the ratio to
plain. Exit status 0; the figures are for docs/BENCHMARKS.md, not a pass/fail test.

  tools/bench_profile_overhead.py --cli build/app/cli/tenfold-cli \
      --reference-cli ../main/build/app/cli/tenfold-cli MODEL.gguf --rounds 5 -p 128 -n 128
"""
import argparse
import json
import statistics
import subprocess
import sys


def bench(cli, model, args, extra):
    cmd = [cli, "bench", model, "-p", str(args.prompt), "-n", str(args.gen), "-r", str(args.reps), "--json"]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    cmd += extra
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {r["test"]: r["tokens_per_s"] for r in json.loads(out)["results"]}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("--cli", required=True)
    p.add_argument("--reference-cli", help="another build's tenfold-cli, run without --profile")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("-p", "--prompt", type=int, default=128)
    p.add_argument("-n", "--gen", type=int, default=128)
    p.add_argument("-r", "--reps", type=int, default=3)
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()

    variants = [("plain", args.cli, []), ("profile", args.cli, ["--profile"])]
    if args.reference_cli:
        variants.append(("reference", args.reference_cli, []))
    runs = {name: {} for name, _, _ in variants}
    for round_ in range(args.rounds):
        for name, cli, extra in variants:
            for test, tps in bench(cli, args.model, args, extra).items():
                runs[name].setdefault(test, []).append(tps)
        print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)

    tests = sorted(runs["plain"])
    print(f"{'test':8} {'variant':10} {'mean tok/s':>12} {'stdev':>8} {'vs plain':>9}")
    for test in tests:
        base = statistics.mean(runs["plain"][test])
        for name, _, _ in variants:
            xs = runs[name][test]
            mean = statistics.mean(xs)
            sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
            print(f"{test:8} {name:10} {mean:12.2f} {sd:8.2f} {mean / base:9.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
