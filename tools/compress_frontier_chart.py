#!/usr/bin/env python3
# The chart of docs/BENCHMARKS.md "Compression" (figures copied from tools/compress_frontier.sh runs).
import math
pts = [  # label, bytes, kld, kind
 ("Q8_0", 16932992, 0.000174, "q"), ("Q2_K (ref type)", 10223744, 0.015644, "r"), ("IQ4_NL", 9068672, 0.014471, "q"),
 ("LR 17 MB", 16978784, 2.386989, "l"), ("LR 17 MB plain", 16953504, 4.598368, "l"), ("LR 12 MB", 11993408, 0.551685, "l"),
 ("LR 7 MB", 6994208, 0.451470, "l"),
 ("pal4 rs", 8480640, 0.021822, "p"), ("pal4 emb rs", 8333280, 0.026719, "p"), ("pal4 q/k 2-bit", 7940064, 0.046211, "p"),
 ("pal2 rs", 5334912, 0.230854, "p"), ("pal2 emb", 4254240, 0.461129, "p"),
 # second pass (2026-12-01): GPTQ palettes with the head's GPTQ, then tuning (150 steps)
 ("pal4 GPTQ", 8480640, 0.016542, "g"), ("pal4 tuned", 8480640, 0.014689, "t"),
 ("3-bit mix GPTQ", 7989120, 0.021843, "g"), ("3-bit mix tuned", 7989120, 0.019228, "t"),
 ("pal3 GPTQ", 6907776, 0.045309, "g"), ("pal3 tuned", 6907776, 0.040018, "t"),
 ("pal3 emb tuned", 6367200, 0.065283, "t"), ("pal2 tuned", 5334912, 0.153956, "t"),
 # third pass: tuning moves the codes too (600 steps x 2 windows of 512)
 ("3-bit mix, codes tuned", 7989120, 0.016464, "c"),
 # fourth pass (2026-12-02): the same, 1,600 steps (0.016342 on the acceptance's 120 chunks)
 # (unlabelled: the next point's label would sit on top of its own)
 ("", 7989120, 0.015263, "c"),
 # fifth pass: 2,800 more steps with tune-palette (0.015881 on the acceptance's 120 chunks)
 ("", 7989120, 0.014795, "c"),
 # and 540 more of 4 windows (0.015015 on the 120 chunks: below the reference Q2_K file's 0.015577)
 ("3-bit mix, codes, 3 runs", 7989120, 0.013959, "c"),
]
W, H, L, R, T, B = 760, 460, 70, 150, 30, 50
x0, x1 = 3.5, 18.0
y0, y1 = math.log10(1e-4), math.log10(10)
X = lambda mb: L + (mb - x0) / (x1 - x0) * (W - L - R)
Y = lambda k: H - B - (math.log10(k) - y0) / (y1 - y0) * (H - T - B)
col = {"q": "#3070c0", "r": "#a06010", "l": "#c03030", "p": "#30a050", "g": "#208080", "t": "#8040b0", "c": "#d02090"}
o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
     f'<rect width="{W}" height="{H}" fill="white"/>',
     f'<text x="{(W-R+L)/2}" y="18" text-anchor="middle" font-size="13">ref-main: file size vs mean KLD from F16 (valid.txt, 40 x 512, log scale)</text>']
for e in range(-4, 2):
    v = 10.0 ** e
    o.append(f'<line x1="{L}" x2="{W-R}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#ddd"/><text x="{L-6}" y="{Y(v)+4:.1f}" text-anchor="end">{v:g}</text>')
for mb in range(4, 19, 2):
    o.append(f'<line x1="{X(mb):.1f}" x2="{X(mb):.1f}" y1="{T}" y2="{H-B}" stroke="#eee"/><text x="{X(mb):.1f}" y="{H-B+16}" text-anchor="middle">{mb}</text>')
o.append(f'<line x1="{X(8):.1f}" x2="{X(8):.1f}" y1="{T}" y2="{H-B}" stroke="#888" stroke-dasharray="4 3"/>')
# The reference's Q2_K type measured on the chart's own 40 windows (0.015577 on the acceptance's 120)
o.append(f'<line x1="{L}" x2="{W-R}" y1="{Y(0.015644):.1f}" y2="{Y(0.015644):.1f}" stroke="#a06010" stroke-dasharray="4 3"/>')
o.append(f'<text x="{(L+W-R)/2}" y="{H-12}" text-anchor="middle">file size (MB, 10^6 bytes)</text>')
for lab, b, k, kind in pts:
    o.append(f'<circle cx="{X(b/1e6):.1f}" cy="{Y(k):.1f}" r="5" fill="{col[kind]}"><title>{lab}: {b/1e6:.2f} MB, {k}</title></circle>')
    left = kind in ("p", "t", "c")  # points that share a size with another kind: labels on both sides
    anchor = ' text-anchor="end"' if left else ""
    o.append(f'<text x="{X(b/1e6) + (-7 if left else 7):.1f}" y="{Y(k)+4:.1f}" fill="{col[kind]}"{anchor}>{lab}</text>')
for i, (kind, name) in enumerate([("q", "quantization"), ("r", "reference Q2_K type"), ("p", "palettes, k-means"),
                                   ("g", "palettes, GPTQ"), ("t", "GPTQ + tuned"), ("c", "+ codes tuned"), ("l", "low-rank")]):
    o.append(f'<circle cx="{W-R+15}" cy="{T+20+i*18}" r="5" fill="{col[kind]}"/><text x="{W-R+25}" y="{T+24+i*18}">{name}</text>')
o.append(f'<text x="{W-R+10}" y="{T+164}" fill="#666">dashed: 8 MB and</text><text x="{W-R+10}" y="{T+178}" fill="#666">the reference Q2_K KLD</text><text x="{W-R+10}" y="{T+192}" fill="#666">(same 40 windows)</text>')
o.append('</svg>')
open("docs/images/compress-frontier.svg", "w").write("\n".join(o))
