// Model::writeGGUF: the model as GGUF v3. A model loaded from GGUF keeps all of its metadata; an
// imported one (llama2.c) gets the Llama keys written from its hyperparameters.
#include "model/model.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model_builder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_gguf.h"

namespace tenfold {

void Model::writeGGUF(const std::filesystem::path& path) const
{
    GGUFWriter w;
    const std::string a = hp_.architecture;
    if (gguf_) {
        w.copyMetadata(*gguf_);
    } else {
        w.set("general.architecture", GGUFValue::string(a));
        w.set("general.name", GGUFValue::string(displayName()));
        w.set("general.file_type", GGUFValue::u32(0)); // all F32
        w.set(a + ".context_length", GGUFValue::u32(uint32_t(hp_.nCtxTrain)));
        w.set(a + ".embedding_length", GGUFValue::u32(uint32_t(hp_.nEmbd)));
        w.set(a + ".block_count", GGUFValue::u32(uint32_t(hp_.nLayer)));
        w.set(a + ".feed_forward_length", GGUFValue::u32(uint32_t(hp_.nFF)));
        w.set(a + ".attention.head_count", GGUFValue::u32(uint32_t(hp_.nHead)));
        w.set(a + ".attention.head_count_kv", GGUFValue::u32(uint32_t(hp_.nHeadKv)));
        w.set(a + ".attention.layer_norm_rms_epsilon", GGUFValue::f32(hp_.rmsEps));
        w.set(a + ".rope.freq_base", GGUFValue::f32(hp_.ropeFreqBase));
        w.set(a + ".rope.dimension_count", GGUFValue::u32(uint32_t(hp_.ropeDim)));
        if (hp_.headDim != hp_.nEmbd / hp_.nHead)
            w.set(a + ".attention.key_length", GGUFValue::u32(uint32_t(hp_.headDim)));
        if (hp_.ropeFreqScale != 1.0f) {
            w.set(a + ".rope.scaling.type", GGUFValue::string("linear"));
            w.set(a + ".rope.scaling.factor", GGUFValue::f32(1.0f / hp_.ropeFreqScale));
        }
        w.set(a + ".vocab_size", GGUFValue::u32(uint32_t(hp_.nVocab)));
        writeTokenizerMetadata(w, *tokenizer_);
    }
    forEachWeight(*this, [&](const WeightTensor& t, bool oneDim) {
        if (!t.present())
            return;
        if (t.palette) {
            const PaletteWeight& p = *t.palette;
            w.addTensor(t.name + ".pal_idx", GGMLType::I8, {int64_t(p.indexRowBytes), t.ne1}, p.indices,
                        uint64_t(p.indexRowBytes) * uint64_t(t.ne1));
            w.addTensor(t.name + ".pal_tab", GGMLType::F32, {int64_t(p.entries()), p.groups}, p.table,
                        uint64_t(p.groups) * uint64_t(p.entries()) * 4);
            if (p.rowScale)
                w.addTensor(t.name + ".pal_scale", GGMLType::F32, {t.ne1}, p.rowScale, uint64_t(t.ne1) * 4);
            return;
        }
        if (t.factorised()) {
            for (const WeightTensor* f : {&t.lowRank->a, &t.lowRank->b})
                w.addTensor(f->name, f->type, {f->ne0, f->ne1}, f->data, uint64_t(f->rowBytes) * uint64_t(f->ne1));
            return;
        }
        std::vector<int64_t> ne = oneDim ? std::vector<int64_t>{t.ne0}
                                         : std::vector<int64_t>{t.ne0, t.ne1};
        w.addTensor(t.name, t.type, std::move(ne), t.data, uint64_t(t.rowBytes) * uint64_t(t.ne1));
    });
    for (const ExitAdapter& a : exitAdapters_) {
        w.addTensor(a.weight.name, a.weight.type, {a.weight.ne0, a.weight.ne1}, a.weight.data,
                    uint64_t(a.weight.rowBytes) * uint64_t(a.weight.ne1));
        w.addTensor(a.bias.name, a.bias.type, {a.bias.ne0}, a.bias.data, uint64_t(a.bias.rowBytes));
    }
    w.write(path);
}

} // namespace tenfold
