#!/usr/bin/python3
"""What the Profiler's per-op timing costs: `tenfold-cli bench` with and without --profile, run
alternately in one session (ABAB... so drift in machine load hits both alike), and optionally the
same without --profile from another build (e.g. main's, before this change) for "nothing when off".

Also prints each variant's CPU seconds per run (user + system of the child process), which the
machine's other load disturbs far less than wall-clock speed; with --threads 1 no thread pool
spins either. Prints, per test (ppN, tgN), the mean and median tokens/s of each variant over the rounds, the
ratio of means to plain, and the median of the per-round ratios (each round's variant against the
same round's plain run, which cancels slow drift in what else the machine is doing). Exit status 0; the figures are for docs/BENCHMARKS.md, not a pass/fail test.

  tools/bench_profile_overhead.py --cli build/app/cli/tenfold-cli \
      --reference-cli ../main/build/app/cli/tenfold-cli MODEL.gguf --rounds 5 -p 128 -n 128
"""
import argparse
import json
import resource
import statistics
import subprocess
import sys


def bench(cli, model, args, extra):
    cmd = [cli, "bench", model, "-p", str(args.prompt), "-n", str(args.gen), "-r", str(args.reps), "--json"]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.parallel:
        cmd += ["--parallel", str(args.parallel)]  # tgNxP: the server's batched passes
    cmd += extra
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {r["test"]: r["tokens_per_s"] for r in json.loads(out)["results"]}
    # CPU seconds of the whole run (load, warm-ups and repetitions alike in every variant): on a
    # machine shared with other work this moves far less than wall-clock tokens/s.
    result["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


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
    p.add_argument("--parallel", type=int, default=0, help="also tgNxP (batched, as tenfold-server)")
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
    print(f"{'test':8} {'variant':10} {'mean tok/s':>12} {'stdev':>8} {'median':>10} {'mean ratio':>11} {'median paired ratio':>20}")
    for test in tests:
        plain = runs["plain"][test]
        base = statistics.mean(plain)
        for name, _, _ in variants:
            xs = runs[name][test]
            mean = statistics.mean(xs)
            sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
            paired = statistics.median(x / b for x, b in zip(xs, plain))
            print(f"{test:8} {name:10} {mean:12.2f} {sd:8.2f} {statistics.median(xs):10.2f} {mean / base:11.4f} {paired:20.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
