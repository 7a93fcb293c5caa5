#!/usr/bin/python3
"""Speculative decoding, Tenfold and the reference engine side by side, in one run.

For each prompt, alternating the engines, measures greedy decoding of N tokens with the target
alone and with the draft model, and reports each engine's decode speed, its speedup over its own
plain decoding and its acceptance rate. Tenfold: `tenfold-cli generate` (with and without
--draft); the reference engine: `llama-cli` and `llama-speculative` from
../shared/peer/llama.cpp-b4748. Medians over --rounds.

Usage: tools/bench_speculative.py [--cli build/app/cli/tenfold-cli] [--peer DIR] [--threads 2]
          [--rounds 3] [-n 128] [--draft-max 8] TARGET.gguf DRAFT.gguf
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

PROMPTS = ["The jury said that", "In the morning, the", "Scientists have found"]


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr[-2000:]}")
    return p.stdout + p.stderr


def tenfold(cli, target, draft, prompt, n, threads, draft_max):
    cmd = [cli, "generate", target, "-p", prompt, "-n", str(n), "--temp", "0", "--threads", str(threads),
           "--ignore-eos", "--no-echo"]
    if draft:
        cmd += ["--draft", draft, "--draft-max", str(draft_max)]
    out = run(cmd)
    speed = float(re.search(r"generated: \d+ tokens, ([0-9.]+) t/s", out).group(1))
    m = re.search(r"\[draft\] (\d+) proposed, (\d+) accepted", out)
    accept = int(m.group(2)) / max(1, int(m.group(1))) if m else None
    return speed, accept


def peer_plain(peer, target, prompt, n, threads):
    out = run([os.path.join(peer, "llama-cli"), "-m", target, "-p", prompt, "-n", str(n), "--temp", "0",
               "-t", str(threads), "-no-cnv", "--ignore-eos"])
    return float(re.search(r"eval time = .*?([0-9.]+) tokens per second", out.split("prompt eval time")[-1]).group(1))


def peer_spec(peer, target, draft, prompt, n, threads, draft_max):
    out = run([os.path.join(peer, "llama-speculative"), "-m", target, "-md", draft, "-p", prompt, "-n", str(n),
               "--temp", "0", "-t", str(threads), "--draft-max", str(draft_max), "--ignore-eos"])
    speed = float(re.search(r"decoded\s+\d+ tokens in\s+[0-9.]+ seconds, speed:\s+([0-9.]+) t/s", out).group(1))
    accept = float(re.search(r"accept\s+=\s+([0-9.]+)%", out).group(1)) / 100
    return speed, accept


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("target")
    ap.add_argument("draft")
    ap.add_argument("--cli", default="build/app/cli/tenfold-cli")
    ap.add_argument("--peer", default="../shared/peer/llama.cpp-b4748")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("--draft-max", type=int, default=8)
    a = ap.parse_args()
    have_peer = os.path.exists(os.path.join(a.peer, "llama-speculative"))
    if not have_peer:
        print(f"reference engine not found in {a.peer}: Tenfold's figures only", file=sys.stderr)
    print("| prompt | engine | plain t/s | speculative t/s | speedup | acceptance |")
    print("|---|---|---|---|---|---|")
    for prompt in PROMPTS:
        rows = {"Tenfold": ([], [], []), "reference": ([], [], [])}
        for _ in range(a.rounds):
            rows["Tenfold"][0].append(tenfold(a.cli, a.target, None, prompt, a.n, a.threads, a.draft_max)[0])
            s, acc = tenfold(a.cli, a.target, a.draft, prompt, a.n, a.threads, a.draft_max)
            rows["Tenfold"][1].append(s)
            rows["Tenfold"][2].append(acc)
            if have_peer:
                rows["reference"][0].append(peer_plain(a.peer, a.target, prompt, a.n, a.threads))
                s, acc = peer_spec(a.peer, a.target, a.draft, prompt, a.n, a.threads, a.draft_max)
                rows["reference"][1].append(s)
                rows["reference"][2].append(acc)
        for engine, (plain, spec, acc) in rows.items():
            if not plain:
                continue
            p, s = statistics.median(plain), statistics.median(spec)
            print(f"| {prompt} | {engine} | {p:.1f} | {s:.1f} | {s / p:.2f}x | {100 * statistics.median(acc):.0f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
