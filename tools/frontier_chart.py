#!/usr/bin/env python3
"""Size vs mean KL divergence as an SVG (no plotting library needed).

usage: tools/frontier_chart.py OURS.tsv REFERENCE.json OUT.svg
OURS.tsv: lines "label<TAB>bytes<TAB>kld" (tools/quant_frontier.sh's results, by hand);
REFERENCE.json: ../shared/reference/quant-imatrix.json (the reference engine's files).
"""
import json
import sys


def main():
    ours_path, ref_path, out_path = sys.argv[1:4]
    ours = []
    for line in open(ours_path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        label, size, kld = line.split("\t")
        ours.append((label, int(size) / 1e6, float(kld)))
    ref = json.load(open(ref_path, encoding="utf-8"))["types"]
    theirs = sorted({(v["bytes"] / 1e6, v["best_kld"], k) for k, v in ref.items()})
    W, H, L, R, T, B = 760, 460, 70, 20, 30, 50
    xs = [p[1] for p in ours] + [p[0] for p in theirs]
    x0, x1 = min(xs) * 0.95, max(xs) * 1.03
    y1 = max([p[2] for p in ours] + [p[1] for p in theirs]) * 1.1
    X = lambda v: L + (v - x0) / (x1 - x0) * (W - L - R)
    Y = lambda v: H - B - v / y1 * (H - T - B)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W/2}" y="18" text-anchor="middle" font-size="13">ref-main: file size vs mean KL divergence from F16 (valid.txt, 120 x 512)</text>']
    for i in range(6):  # grid
        v = y1 * i / 5
        out.append(f'<line x1="{L}" x2="{W-R}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L-6}" y="{Y(v)+4:.1f}" text-anchor="end">{v:.4f}</text>')
    mb = int(x0) + 1
    while mb < x1:
        out.append(f'<line y1="{T}" y2="{H-B}" x1="{X(mb):.1f}" x2="{X(mb):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{X(mb):.1f}" y="{H-B+16}" text-anchor="middle">{mb}</text>')
        mb += 1
    out.append(f'<text x="{(L+W-R)/2}" y="{H-12}" text-anchor="middle">file size (MB, 10^6 bytes)</text>')
    out.append(f'<text x="16" y="{(T+H-B)/2}" text-anchor="middle" transform="rotate(-90 16 {(T+H-B)/2})">mean KLD</text>')
    for size, kld, name in theirs:
        out.append(f'<rect x="{X(size)-5:.1f}" y="{Y(kld)-5:.1f}" width="10" height="10" fill="#d08020"><title>reference {name}: {size:.2f} MB, {kld}</title></rect>')
        out.append(f'<text x="{X(size)+7:.1f}" y="{Y(kld)-6:.1f}" fill="#a06010">{name}</text>')
    for label, size, kld in ours:
        out.append(f'<circle cx="{X(size):.1f}" cy="{Y(kld):.1f}" r="5" fill="#3070c0"><title>Tenfold {label}: {size:.2f} MB, {kld}</title></circle>')
        out.append(f'<text x="{X(size)+7:.1f}" y="{Y(kld)+12:.1f}" fill="#205090">{label}</text>')
    out.append(f'<rect x="{W-R-200}" y="{T+4}" width="196" height="40" fill="white" stroke="#ccc"/>')
    out.append(f'<circle cx="{W-R-188}" cy="{T+16}" r="5" fill="#3070c0"/><text x="{W-R-178}" y="{T+20}">Tenfold (GPTQ, budgeted mixes)</text>')
    out.append(f'<rect x="{W-R-193}" y="{T+27}" width="10" height="10" fill="#d08020"/><text x="{W-R-178}" y="{T+36}">reference engine (best of rtn/imatrix)</text>')
    out.append("</svg>")
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
