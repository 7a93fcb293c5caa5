#!/usr/bin/env python3
"""Give a Llama GGUF the large-activation "outlier" input channels that big LLMs have, without
changing what the model computes, to show why Wanda beats magnitude pruning there.

Large LLMs carry a few hidden channels whose activations are 20x or more the median (Dettmers et
al. 2022, "LLM.int8()"; Sun et al. 2023, "Wanda", section 2). Where a channel's input x_j is large,
the weights that read it can be small and still matter, so |W| alone (magnitude pruning) removes
them and |W| * ||X_j|| (Wanda) keeps them. A small model trained briefly has almost no such channels
(ref-main's input column norms are within about 2x of their median), so both scores rank weights
alike and the two methods come out close.

This script makes the same model with such channels by a change of parameters that leaves every
output the same: for K residual channels j it multiplies the RMSNorm gains attn_norm[j] and
ffn_norm[j] by S and divides column j of attn_q/attn_k/attn_v (which read attn_norm's output) and
of ffn_gate/ffn_up (which read ffn_norm's output) by S; for K FFN channels i it multiplies row i of
ffn_up by S (SwiGLU is linear in up) and divides column i of ffn_down by S. The inputs of those
matrices then have K channels S times larger, as in a big LLM, and products W x are unchanged (up
to F16 rounding of the divided weights; `tenfold-cli perplexity` on both files shows it). Wanda's
scores are the same on both files; magnitude's are not.

Usage: tools/outlier_channels.py IN.gguf OUT.gguf [--channels K] [--ffn-channels K] [--scale S]
Channels are picked as the K with the largest norm gain in layer 0 (attn_norm), and the K FFN
channels with the largest ffn_up row norm in each layer; F16 or F32 tensors only. OUT is written
as OUT.part and renamed.
"""
import argparse
import math
import os
import struct
import sys

SCALAR = {0: 'B', 1: 'b', 2: 'H', 3: 'h', 4: 'I', 5: 'i', 6: 'f', 7: '?', 10: 'Q', 11: 'q', 12: 'd'}
TYPE_F32, TYPE_F16 = 0, 1


class Reader:
    def __init__(self, data):
        self.d, self.o = data, 0

    def take(self, fmt):
        v = struct.unpack_from('<' + fmt, self.d, self.o)
        self.o += struct.calcsize('<' + fmt)
        return v[0]

    def string(self):
        n = self.take('Q')
        s = self.d[self.o:self.o + n].decode('utf-8')
        self.o += n
        return s

    def value(self, t):
        if t in SCALAR:
            return self.take(SCALAR[t])
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take('I'), self.take('Q')
            return [self.value(et) for _ in range(n)]
        raise ValueError('unknown GGUF value type %d at byte %d' % (t, self.o))


def parse(data, path):
    r = Reader(data)
    if data[:4] != b'GGUF':
        sys.exit('%s: not a GGUF file' % path)
    r.o = 4
    version, n_tensors, n_kv = r.take('I'), r.take('Q'), r.take('Q')
    if version < 2:
        sys.exit('%s: GGUF version %d is not supported' % (path, version))
    meta = {}
    for _ in range(n_kv):
        k = r.string()
        meta[k] = r.value(r.take('I'))
    tensors = {}
    for _ in range(n_tensors):
        name = r.string()
        nd = r.take('I')
        ne = [r.take('Q') for _ in range(nd)]
        t, off = r.take('I'), r.take('Q')
        tensors[name] = (ne, t, off)
    align = meta.get('general.alignment', 32)
    base = (r.o + align - 1) // align * align
    return meta, tensors, base


class Tensor:
    """Elementwise access to one F16/F32 tensor inside the bytearray (ne[0] is the row length)."""

    def __init__(self, buf, info, base, name):
        ne, t, off = info
        if t not in (TYPE_F16, TYPE_F32):
            sys.exit('%s: type %d, only F16 and F32 tensors can be rescaled' % (name, t))
        self.buf, self.ne, self.fmt = buf, ne, '<e' if t == TYPE_F16 else '<f'
        self.size = 2 if t == TYPE_F16 else 4
        self.off = base + off

    def at(self, i):
        return self.off + i * self.size

    def get(self, i):
        return struct.unpack_from(self.fmt, self.buf, self.at(i))[0]

    def set(self, i, v):
        struct.pack_into(self.fmt, self.buf, self.at(i), v)

    def scale_column(self, j, s):  # element j of every row
        for r in range(self.ne[1] if len(self.ne) > 1 else 1):
            i = r * self.ne[0] + j
            self.set(i, self.get(i) * s)

    def scale_row(self, r, s):
        for j in range(self.ne[0]):
            i = r * self.ne[0] + j
            self.set(i, self.get(i) * s)

    def row_norm(self, r):
        return math.sqrt(sum(self.get(r * self.ne[0] + j) ** 2 for j in range(self.ne[0])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('input')
    ap.add_argument('output')
    ap.add_argument('--channels', type=int, default=4, help='residual channels to enlarge (default 4)')
    ap.add_argument('--ffn-channels', type=int, default=10, help='FFN channels per layer to enlarge (default 10)')
    ap.add_argument('--scale', type=float, default=16.0, help='factor S (default 16)')
    a = ap.parse_args()
    if a.scale <= 0:
        sys.exit('--scale must be positive')
    if os.path.abspath(a.input) == os.path.abspath(a.output):
        sys.exit('input and output are the same file')
    buf = bytearray(open(a.input, 'rb').read())
    meta, tensors, base = parse(buf, a.input)
    arch = meta.get('general.architecture', 'llama')
    n_layer = meta.get(arch + '.block_count')
    if n_layer is None:
        sys.exit('%s: no %s.block_count' % (a.input, arch))

    def t(name):
        if name not in tensors:
            sys.exit('%s: no tensor %s' % (a.input, name))
        return Tensor(buf, tensors[name], base, name)

    n_embd = tensors['blk.0.attn_norm.weight'][0][0]
    if not 0 <= a.channels <= n_embd:
        sys.exit('--channels must be within 0..%d' % n_embd)
    g0 = t('blk.0.attn_norm.weight')
    chans = sorted(range(n_embd), key=lambda j: -abs(g0.get(j)))[:a.channels]
    for l in range(n_layer):
        p = 'blk.%d.' % l
        for norm, readers in (('attn_norm', ('attn_q', 'attn_k', 'attn_v')), ('ffn_norm', ('ffn_gate', 'ffn_up'))):
            g = t(p + norm + '.weight')
            for j in chans:
                g.set(j, g.get(j) * a.scale)
                for m in readers:
                    t(p + m + '.weight').scale_column(j, 1.0 / a.scale)
        up, down = t(p + 'ffn_up.weight'), t(p + 'ffn_down.weight')
        n_ff = up.ne[1]
        if not 0 <= a.ffn_channels <= n_ff:
            sys.exit('--ffn-channels must be within 0..%d' % n_ff)
        for i in sorted(range(n_ff), key=lambda i: -up.row_norm(i))[:a.ffn_channels]:
            up.scale_row(i, a.scale)
            down.scale_column(i, 1.0 / a.scale)
    part = a.output + '.part'
    with open(part, 'wb') as f:
        f.write(buf)
    os.replace(part, a.output)
    print('%s: residual channels %s and %d FFN channels per layer scaled by %g (inputs) and 1/%g (weights)'
          % (a.output, sorted(chans), a.ffn_channels, a.scale, a.scale))


if __name__ == '__main__':
    main()
