#!/usr/bin/python3
"""Prompt compression benchmark on ../shared/text/valid.txt (docs/BENCHMARKS.md).

Takes the first N paragraphs of valid.txt of a given length, compresses each to R of its tokens
with `tenfold-cli compress` (LLMLingua-style: the scoring model's surprisal, questions and
instructions kept), lets ref-main continue the original greedily for T tokens, feeds the same
tokens after the compressed prompt and reports the mean KL divergence of the continuation from
the uncompressed prompt's. Each method runs on the same passages: surprisal scored by ref-draft
(the small model), by ref-main itself, and random word dropping (same budget) as the baseline.

  /usr/bin/python3 tools/bench_prompt_compression.py [--passages 40] [--ratio 0.5] [--tokens 32]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cli", default=os.path.join(REPO, "build", "app", "cli", "tenfold-cli"))
    p.add_argument("--shared", default=os.path.join(REPO, "..", "shared"))
    p.add_argument("--passages", type=int, default=40)
    p.add_argument("--min-chars", type=int, default=500)
    p.add_argument("--max-chars", type=int, default=1100)
    p.add_argument("--ratio", type=float, default=0.5)
    p.add_argument("--tokens", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()

    main_model = os.path.join(args.shared, "models", "tenfold-ref-main-f16.gguf")
    draft_model = os.path.join(args.shared, "models", "tenfold-ref-draft-f16.gguf")
    with open(os.path.join(args.shared, "text", "valid.txt"), encoding="utf-8") as f:
        paragraphs = [line.strip() for line in f if args.min_chars <= len(line.strip()) <= args.max_chars]
    passages = paragraphs[:args.passages]
    methods = [
        ("surprisal, ref-draft scores", ["--scorer", draft_model]),
        ("surprisal, ref-main scores", []),
        ("random words (baseline)", ["--random-baseline", "1", "--scorer", draft_model]),
        ("surprisal, ref-draft, no kept tail", ["--scorer", draft_model, "--tail", "0"]),
        ("random words, no kept tail", ["--random-baseline", "1", "--scorer", draft_model, "--tail", "0"]),
    ]
    results = {name: [] for name, _ in methods}
    for i, text in enumerate(passages):
        for name, extra in methods:
            cmd = [args.cli, "compress", main_model, "-p", text, "--ratio", str(args.ratio),
                   "--continue", str(args.tokens), "--threads", str(args.threads), "--json"] + extra
            t0 = time.time()
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                print("failed:", " ".join(cmd[:4]), out.stderr, file=sys.stderr)
                return 1
            r = json.loads(out.stdout)
            r["wall"] = time.time() - t0
            results[name].append(r)
        print("passage %d/%d done" % (i + 1, len(passages)), file=sys.stderr)

    print("| method | passages | tokens (mean) | kept (mean ratio) | mean KLD (nats) | median KLD | same top token | compress time (mean s) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, _ in methods:
        rs = results[name]
        print("| %s | %d | %.1f | %.3f | %.4f | %.4f | %.1f%% | %.3f |" % (
            name, len(rs), statistics.mean(r["original_tokens"] for r in rs),
            statistics.mean(r["ratio"] for r in rs), statistics.mean(r["mean_kld"] for r in rs),
            statistics.median(r["mean_kld"] for r in rs),
            100 * statistics.mean(r["same_top_token"] for r in rs),
            statistics.mean(r["compress_seconds"] for r in rs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
