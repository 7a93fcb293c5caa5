#pragma once
// Internal: the loaders' access to Model's private members (Model's constructor is private so a
// model only ever comes out of a loader that validated it).
#include "model/model.h"

namespace tenfold {

class ModelBuilder {
public:
    static std::shared_ptr<Model> create() { return std::shared_ptr<Model>(new Model()); }
    static LlamaHParams& hparams(Model& m) { return m.hp_; }
    static std::unique_ptr<Tokenizer>& tokenizer(Model& m) { return m.tokenizer_; }
    static std::shared_ptr<const GGUFFile>& gguf(Model& m) { return m.gguf_; }
    static std::vector<std::vector<uint8_t>>& ownedBuffers(Model& m) { return m.ownedBuffers_; }
    static WeightTensor& tokenEmbedding(Model& m) { return m.tokEmbd_; }
    static WeightTensor& outputNorm(Model& m) { return m.outputNorm_; }
    static WeightTensor& output(Model& m) { return m.output_; }
    static std::vector<LayerWeights>& layers(Model& m) { return m.layers_; }
    static std::vector<ExitAdapter>& exitAdapters(Model& m) { return m.exitAdapters_; }
    // Throws FormatError/InvalidArgument naming the tensor when shapes disagree with hparams.
    static void validate(const Model& m, const std::string& label);
};

// Calls fn(WeightTensor&, bool oneDimensional) for every tensor of the model in GGUF order
// (token_embd, output_norm, output unless tied, then each layer).
template <class M, class F>
void forEachWeight(M& model, F&& fn)
{
    fn(model.tokenEmbedding(), false);
    fn(model.outputNorm(), true);
    if (!model.hparams().tiedOutput)
        fn(model.output(), false);
    for (auto& l : model.layers()) {
        fn(l.attnNorm, true);
        fn(l.wq, false);
        fn(l.wk, false);
        fn(l.wv, false);
        fn(l.bq, true);
        fn(l.bk, true);
        fn(l.bv, true);
        fn(l.wo, false);
        fn(l.ffnNorm, true);
        fn(l.ffnGate, false);
        fn(l.ffnUp, false);
        fn(l.ffnDown, false);
    }
}

} // namespace tenfold
