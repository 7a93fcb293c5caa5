// Model::fingerprint(): FNV-1a over what distinguishes one set of weights from another.
#include "model/model.h"
#include "model/model_builder.h"

#include "core/fnv.h"

#include <algorithm>
#include <cstring>

namespace tenfold {
namespace {

// Strings are length-prefixed so "ab"+"c" and "a"+"bc" differ.
void text(Fnv1a& f, const std::string& s)
{
    f.value(uint64_t(s.size()));
    f.text(s);
}

} // namespace

uint64_t Model::fingerprint() const
{
    if (const uint64_t f = fingerprint_.load(); f != 0)
        return f;
    Fnv1a f;
    text(f, hp_.architecture);
    for (int32_t v : {hp_.nVocab, hp_.nCtxTrain, hp_.nEmbd, hp_.nLayer, hp_.nHead, hp_.nHeadKv, hp_.nFF,
                      hp_.headDim, hp_.ropeDim})
        f.value(v);
    f.value(hp_.rmsEps);
    f.value(hp_.ropeFreqBase);
    f.value(hp_.ropeFreqScale);
    // Every tensor's name, type and shape, and up to 4 KiB from its start, middle and end: any
    // retraining or re-quantization changes bytes everywhere.
    constexpr size_t kSample = 4096;
    forEachWeight(*this, [&](const WeightTensor& w, bool) {
        text(f, w.name);
        f.value(int32_t(w.type));
        f.value(w.ne0);
        f.value(w.ne1);
        auto sample = [&](const WeightTensor& t) {
            const size_t total = t.rowBytes * size_t(t.ne1);
            const size_t n = std::min(total, kSample);
            f.bytes(t.data, n);
            f.bytes(t.data + (total - n) / 2, n);
            f.bytes(t.data + total - n, n);
        };
        if (w.palette) {
            f.value(int32_t(w.palette->bits));
            f.bytes(w.palette->table, size_t(w.palette->groups * w.palette->entries()) * 4);
            WeightTensor idx;
            idx.data = w.palette->indices;
            idx.rowBytes = w.palette->indexRowBytes;
            idx.ne1 = w.ne1;
            sample(idx);
        } else if (w.factorised()) {
            f.value(w.lowRank->rank);
            sample(w.lowRank->a);
            sample(w.lowRank->b);
        } else if (w.present()) {
            sample(w);
        }
    });
    const uint64_t h = f.h == 0 ? 1 : f.h;
    fingerprint_.store(h);
    return h;
}

} // namespace tenfold
