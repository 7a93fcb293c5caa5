#include "model/model.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model_builder.h"
#include "tokenizer/tokenizer.h"

#include <set>

namespace tenfold {

Model::Model() = default;
Model::~Model() = default;

std::string Model::displayName() const
{
    if (gguf_)
        if (auto name = gguf_->getString("general.name"); name && !name->empty())
            return *name;
    return hp_.architecture + " " + std::to_string(parameterCount() / 1000) + "K";
}

uint64_t Model::parameterCount() const
{
    uint64_t n = 0;
    forEachWeight(*this, [&](const WeightTensor& w, bool) {
        if (w.present())
            n += uint64_t(w.ne0) * uint64_t(w.ne1);
    });
    return n;
}

uint64_t Model::weightBytes() const
{
    uint64_t n = 0;
    forEachWeight(*this, [&](const WeightTensor& w, bool) {
        n += w.storageBytes();
    });
    return n;
}

bool Model::holdsWeightBytes(const uint8_t* p, size_t n) const
{
    if (gguf_ && gguf_->contains(p, n))
        return true;
    for (const std::vector<uint8_t>& b : ownedBuffers_)
        if (p >= b.data() && n <= b.size() && size_t(p - b.data()) <= b.size() - n)
            return true;
    return false;
}

uint64_t Model::kvCacheBytes(int nCtx, GGMLType kvType) const
{
    const uint64_t perPosition = uint64_t(hp_.nHeadKv) * uint64_t(hp_.headDim);
    return 2ull * uint64_t(hp_.nLayer) * uint64_t(nCtx) * perPosition *
           typeTraits(kvType).blockBytes / uint64_t(typeTraits(kvType).blockSize);
}

namespace {

void expectShape(const WeightTensor& w, int64_t ne0, int64_t ne1, const std::string& label,
                 bool optional = false)
{
    if (!w.present()) {
        if (optional)
            return;
        throw FormatError(label, 0, "tensor '" + w.name + "' is missing");
    }
    if (w.ne0 != ne0 || w.ne1 != ne1)
        throw FormatError(label, w.sourceOffset,
                          "tensor '" + w.name + "' has shape [" + std::to_string(w.ne0) + ", " +
                              std::to_string(w.ne1) + "], expected [" + std::to_string(ne0) +
                              ", " + std::to_string(ne1) + "] from the hyperparameters");
}

} // namespace

void ModelBuilder::validate(const Model& m, const std::string& label)
{
    const LlamaHParams& hp = m.hparams();
    auto positive = [&](int64_t v, const char* what) {
        if (v <= 0)
            throw FormatError(label, 0, std::string("hyperparameter ") + what + " = " +
                                            std::to_string(v) + " must be positive");
    };
    positive(hp.nVocab, "vocab size");
    positive(hp.nEmbd, "embedding length");
    positive(hp.nLayer, "block count");
    positive(hp.nHead, "head count");
    positive(hp.nHeadKv, "KV head count");
    positive(hp.nFF, "feed-forward length");
    positive(hp.headDim, "head dimension");
    positive(hp.nCtxTrain, "context length");
    if (hp.nHead % hp.nHeadKv != 0)
        throw FormatError(label, 0, "head count " + std::to_string(hp.nHead) +
                                        " is not a multiple of the KV head count " +
                                        std::to_string(hp.nHeadKv));
    if (hp.ropeDim <= 0 || hp.ropeDim > hp.headDim || hp.ropeDim % 2 != 0)
        throw FormatError(label, 0, "RoPE dimension " + std::to_string(hp.ropeDim) +
                                        " must be even and at most the head dimension " +
                                        std::to_string(hp.headDim));
    if (hp.nLayer != int(m.layers().size()))
        throw FormatError(label, 0, "block count disagrees with the layers found");
    const int64_t qDim = int64_t(hp.nHead) * hp.headDim;
    const int64_t kvDim = int64_t(hp.nHeadKv) * hp.headDim;
    expectShape(m.tokenEmbedding(), hp.nEmbd, hp.nVocab, label);
    expectShape(m.outputNorm(), hp.nEmbd, 1, label);
    expectShape(m.output(), hp.nEmbd, hp.nVocab, label);
    for (const LayerWeights& l : m.layers()) {
        expectShape(l.attnNorm, hp.nEmbd, 1, label);
        expectShape(l.wq, hp.nEmbd, qDim, label);
        expectShape(l.wk, hp.nEmbd, kvDim, label);
        expectShape(l.wv, hp.nEmbd, kvDim, label);
        expectShape(l.bq, qDim, 1, label, true);
        expectShape(l.bk, kvDim, 1, label, true);
        expectShape(l.bv, kvDim, 1, label, true);
        expectShape(l.wo, qDim, hp.nEmbd, label);
        expectShape(l.ffnNorm, hp.nEmbd, 1, label);
        expectShape(l.ffnGate, hp.nEmbd, hp.nFF, label);
        expectShape(l.ffnUp, hp.nEmbd, hp.nFF, label);
        expectShape(l.ffnDown, hp.nFF, hp.nEmbd, label);
    }
    // Norms and biases are applied in F32 by every backend.
    forEachWeight(m, [&](const WeightTensor& w, bool oneDim) {
        if (oneDim && w.present() && w.type != GGMLType::F32)
            throw UnsupportedError(label + ": tensor '" + w.name + "' is " + typeName(w.type) +
                                   "; norms and biases must be F32");
        if (!oneDim && w.present() && !typeTraits(w.type).weightType)
            throw UnsupportedError(label + ": tensor '" + w.name + "' has type " +
                                   typeName(w.type) + ", which is not a weight type");
    });
}

const ExitAdapter* Model::exitAdapter(int layer) const
{
    for (const ExitAdapter& a : exitAdapters_)
        if (a.layer == layer)
            return &a;
    return nullptr;
}

} // namespace tenfold
