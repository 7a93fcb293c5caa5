#!/usr/bin/env python3
"""Single-stream throughput of tenfold-worker under mpirun (1, 2, 3 ranks; pipeline and data
parallel) next to tenfold-cli generate, on one machine over loopback/shared memory.

usage: tools/bench_mpi.py BUILD_DIR MODEL [--n-predict N] [--prompt-words W] [--repeats R] [--micro-batch M]

Prints one Markdown table row per configuration: prompt and decode tokens/s (the best of R runs,
as the timing line reports them) and, from rank 0's cluster report, the compute per pass of
every rank and rank 0's wait beyond the ranks' compute, per one-token (decode) pass."""
import argparse
import os
import re
import subprocess
import sys

MPIRUN = ["mpirun", "--oversubscribe", "--bind-to", "none", "--mca", "btl", "self,vader", "--mca", "oob_tcp_if_include", "lo",
          "--mca", "btl_tcp_if_include", "lo"]


def run(cmd):
    env = dict(os.environ)
    if os.getuid() == 0:
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr))
    return p.stdout, p.stderr


def parse(err):
    m = re.search(r"prompt: (\d+) tokens, [0-9.]+ ms \(([0-9.]+) t/s\) \| generated: (\d+) tokens, ([0-9.]+) t/s", err)
    ranks = [(int(r), float(ms)) for r, ms in
             re.findall(r"\[mpi\] rank (\d+) on [^:]+: .*?; ([0-9.]+) ms per one-token pass\)", err)]
    wait = re.search(r"waited [0-9.]+ ms beyond the ranks' compute \([0-9.]+ ms/pass; ([0-9.]+) ms per one-token", err)
    return int(m.group(1)), float(m.group(2)), int(m.group(3)), float(m.group(4)), ranks, float(wait.group(1)) if wait else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("model")
    ap.add_argument("--n-predict", type=int, default=64)
    ap.add_argument("--prompt-words", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--micro-batch", type=int, default=0, help="also pipelines with micro-batches of this size")
    a = ap.parse_args()
    cli = os.path.join(a.build, "app/cli/tenfold-cli")
    worker = os.path.join(a.build, "app/worker/tenfold-worker")
    prompt = " ".join(["The jury said that the city had been given a number of reports"] * 20).split()[:a.prompt_words]
    common = [a.model, "-p", " ".join(prompt), "-n", str(a.n_predict), "--temp", "0", "--ignore-eos"]
    configs = [("tenfold-cli generate, 2 threads", [cli, "generate"] + common + ["--threads", "2"])]
    configs.append(("worker, 1 rank x 2 threads", MPIRUN + ["-np", "1", worker, "generate"] + common + ["--threads", "2"]))
    configs.append(("worker, 1 rank x 1 thread", MPIRUN + ["-np", "1", worker, "generate"] + common + ["--threads", "1"]))
    for n in (2, 3):
        configs.append(("pipeline, %d ranks x 1 thread" % n, MPIRUN + ["-np", str(n), worker, "generate"] + common + ["--threads", "1"]))
    if a.micro_batch > 0:
        for n in (2, 3):
            configs.append(("pipeline, %d ranks x 1 thread, micro-batch %d" % (n, a.micro_batch),
                            MPIRUN + ["-np", str(n), worker, "generate"] + common +
                            ["--threads", "1", "--micro-batch", str(a.micro_batch)]))
    for n in (2, 3):
        configs.append(("data parallel, %d ranks x 1 thread" % n,
                        MPIRUN + ["-np", str(n), worker, "generate"] + common + ["--threads", "1", "--data-parallel"]))
    print("| configuration | prompt tokens | prompt t/s | decode t/s | ms/token | compute ms per token, by rank | rank 0 wait ms per token |")
    print("|---|---|---|---|---|---|---|")
    for name, cmd in configs:
        best = None
        for _ in range(a.repeats):
            _, err = run(cmd)
            r = parse(err)
            if best is None or r[3] > best[3]:
                best = r
        pt, pps, gt, gps, ranks, wait = best
        per = ", ".join("%d: %.3f" % (r, ms) for r, ms in ranks) if ranks else "-"
        print("| %s | %d | %.1f | %.2f | %.2f | %s | %s |" % (name, pt, pps, gps, 1000.0 / gps, per,
                                                             "%.3f" % wait if ranks and len(ranks) > 1 else "-"))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
