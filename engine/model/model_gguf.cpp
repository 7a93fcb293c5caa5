// Model::loadGGUF: a Llama-family decoder from a GGUF file. Weights stay in the file's mapping.
#include "model/model.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model_builder.h"
#include "tokenizer/tokenizer.h"

#include <array>
#include <cmath>

namespace tenfold {
namespace {

struct ArchInfo {
    const char* name;
    bool neox;  // RoPE pairs (i, i + d/2) rather than (2i, 2i+1)
};

// Architectures with the Llama tensor layout (TinyLlama, SmolLM and Llama 3 are "llama" in GGUF).
constexpr std::array kArchitectures = {
    ArchInfo{"llama", false},
    ArchInfo{"mistral", false},
    ArchInfo{"qwen2", true},
};

const ArchInfo& findArch(const std::string& arch, const std::string& label)
{
    for (const auto& a : kArchitectures)
        if (arch == a.name)
            return a;
    std::string known;
    for (const auto& a : kArchitectures)
        known += std::string(known.empty() ? "" : ", ") + a.name;
    throw UnsupportedError(label + ": model architecture '" + arch +
                           "' is not supported (supported: " + known + ")");
}

class Loader {
public:
    Loader(const GGUFFile& f, std::string arch) : f_(f), arch_(std::move(arch)) {}

    int64_t requiredInt(const std::string& suffix) const
    {
        const std::string key = arch_ + "." + suffix;
        auto v = f_.getInt(key);
        if (!v)
            throw FormatError(f_.label(), 0, "metadata key '" + key + "' is missing");
        return *v;
    }
    // Where the value of arch.suffix starts in the file, for errors about its meaning.
    uint64_t offsetOf(const std::string& suffix) const
    {
        return f_.metadataOffset(arch_ + "." + suffix);
    }
    std::optional<int64_t> optionalInt(const std::string& suffix) const
    {
        return f_.getInt(arch_ + "." + suffix);
    }
    std::optional<double> optionalFloat(const std::string& suffix) const
    {
        return f_.getFloat(arch_ + "." + suffix);
    }

    WeightTensor tensor(const std::string& name, bool required) const
    {
        WeightTensor w;
        w.name = name;
        const GGUFTensorInfo* t = f_.findTensor(name);
        if (!t && f_.findTensor(name + ".lr_a"))
            return factorised(name);
        if (!t && f_.findTensor(name + ".pal_idx"))
            return paletted(name);
        if (!t) {
            if (required)
                throw FormatError(f_.label(), 0, "required tensor '" + name + "' is missing");
            return w;
        }
        if (t->ne.empty() || t->ne.size() > 2)
            throw FormatError(f_.label(), t->infoOffset, "tensor '" + name + "' has " +
                                                 std::to_string(t->ne.size()) +
                                                 " dimensions; expected 1 or 2");
        w.type = t->type;
        w.ne0 = t->ne[0];
        w.ne1 = t->ne.size() > 1 ? t->ne[1] : 1;
        w.rowBytes = rowBytes(w.type, w.ne0);
        w.data = t->data;
        w.sourceOffset = t->infoOffset;
        return w;
    }

    // A weight stored as two factors NAME.lr_a [rank x out] and NAME.lr_b [in x rank]
    // (docs/COMPRESSION.md). The shapes must chain; the rank metadata, when present, must agree.
    WeightTensor factorised(const std::string& name) const
    {
        auto lr = std::make_shared<LowRankFactors>();
        lr->a = tensor(name + ".lr_a", true);
        lr->b = tensor(name + ".lr_b", true);
        if (lr->a.factorised() || lr->b.factorised() || lr->a.ne0 != lr->b.ne1 || lr->a.ne0 <= 0)
            throw FormatError(f_.label(), lr->a.sourceOffset,
                              "low-rank factors of '" + name + "' do not chain: lr_a is [" + std::to_string(lr->a.ne0) +
                                  ", " + std::to_string(lr->a.ne1) + "], lr_b is [" + std::to_string(lr->b.ne0) + ", " +
                                  std::to_string(lr->b.ne1) + "] (expected lr_a [r, out], lr_b [in, r])");
        lr->rank = lr->a.ne0;
        WeightTensor w;
        w.name = name;
        w.type = lr->a.type;
        w.ne0 = lr->b.ne0;
        w.ne1 = lr->a.ne1;
        w.sourceOffset = lr->a.sourceOffset;
        w.lowRank = std::move(lr);
        return w;
    }

    // A weight stored as NAME.pal_idx (I8 [ne0 * bits / 8, rows], packed indices) and NAME.pal_tab
    // (F32 [2^bits, groups]); bits (2, 3 or 4) follows from the table's width (docs/COMPRESSION.md).
    WeightTensor paletted(const std::string& name) const
    {
        const GGUFTensorInfo* idx = f_.findTensor(name + ".pal_idx");
        const GGUFTensorInfo* tab = f_.findTensor(name + ".pal_tab");
        if (!tab)
            throw FormatError(f_.label(), idx->infoOffset, "palette indices '" + name + ".pal_idx' have no table '" +
                                                               name + ".pal_tab'");
        if (idx->type != GGMLType::I8 || idx->ne.size() != 2 || tab->type != GGMLType::F32 || tab->ne.size() != 2 ||
            (tab->ne[0] != 4 && tab->ne[0] != 8 && tab->ne[0] != 16) || tab->ne[1] < 1 || idx->ne[1] % tab->ne[1] != 0 ||
            (tab->ne[0] == 8 && idx->ne[0] % 3 != 0))
            throw FormatError(f_.label(), idx->infoOffset,
                              "palette weight '" + name + "' must be I8 indices [bytes, rows] (a multiple of 3 bytes "
                              "for 3-bit) with an F32 table [4, 8 or 16, groups] whose group count divides the rows");
        auto p = std::make_shared<PaletteWeight>();
        p->bits = tab->ne[0] == 16 ? 4 : tab->ne[0] == 8 ? 3 : 2;
        p->groups = tab->ne[1];
        p->groupRows = idx->ne[1] / tab->ne[1];
        p->indices = idx->data;
        p->indexRowBytes = size_t(idx->ne[0]);
        p->table = reinterpret_cast<const float*>(tab->data);
        if (const GGUFTensorInfo* sc = f_.findTensor(name + ".pal_scale")) {
            if (sc->type != GGMLType::F32 || sc->ne.size() != 1 || sc->ne[0] != idx->ne[1])
                throw FormatError(f_.label(), sc->infoOffset, "palette row scales '" + name + ".pal_scale' must be F32 [" +
                                                                  std::to_string(idx->ne[1]) + "]");
            p->rowScale = reinterpret_cast<const float*>(sc->data);
        }
        WeightTensor w;
        w.name = name;
        w.type = GGMLType::F32; // nominal: the values are the table's
        w.ne0 = idx->ne[0] * 8 / p->bits;
        w.ne1 = idx->ne[1];
        w.sourceOffset = idx->infoOffset;
        w.palette = std::move(p);
        return w;
    }

private:
    const GGUFFile& f_;
    std::string arch_;
};

int32_t checkedInt32(int64_t v, const std::string& what, const std::string& label,
                     uint64_t offset = 0)
{
    if (v <= 0 || v > (int64_t(1) << 30))
        throw FormatError(label, offset, what + " = " + std::to_string(v) + " is out of range");
    return int32_t(v);
}

} // namespace

std::shared_ptr<Model> Model::loadGGUF(const std::filesystem::path& path)
{
    return loadGGUF(std::shared_ptr<const GGUFFile>(GGUFFile::open(path)));
}

std::shared_ptr<Model> Model::loadGGUF(std::shared_ptr<const GGUFFile> file)
{
    const std::string label = file->label();
    const auto archName = file->getString("general.architecture");
    if (!archName)
        throw FormatError(label, 0, "metadata key 'general.architecture' is missing");
    const ArchInfo& arch = findArch(*archName, label);
    Loader ld(*file, arch.name);

    auto model = ModelBuilder::create();
    LlamaHParams& hp = ModelBuilder::hparams(*model);
    hp.architecture = arch.name;
    hp.nEmbd = checkedInt32(ld.requiredInt("embedding_length"), "embedding_length", label,
                            ld.offsetOf("embedding_length"));
    hp.nLayer = checkedInt32(ld.requiredInt("block_count"), "block_count", label,
                             ld.offsetOf("block_count"));
    hp.nFF = checkedInt32(ld.requiredInt("feed_forward_length"), "feed_forward_length", label,
                          ld.offsetOf("feed_forward_length"));
    hp.nHead = checkedInt32(ld.requiredInt("attention.head_count"), "head_count", label,
                            ld.offsetOf("attention.head_count"));
    hp.nHeadKv = checkedInt32(ld.optionalInt("attention.head_count_kv").value_or(hp.nHead),
                              "head_count_kv", label, ld.offsetOf("attention.head_count_kv"));
    hp.nCtxTrain = checkedInt32(ld.optionalInt("context_length").value_or(2048), "context_length",
                                label, ld.offsetOf("context_length"));
    hp.headDim = checkedInt32(ld.optionalInt("attention.key_length").value_or(hp.nEmbd / hp.nHead),
                              "attention.key_length", label, ld.offsetOf("attention.key_length"));
    if (auto vl = ld.optionalInt("attention.value_length"); vl && *vl != hp.headDim)
        throw UnsupportedError(label + ": attention.value_length " + std::to_string(*vl) +
                               " differs from key_length " + std::to_string(hp.headDim));
    hp.ropeDim = checkedInt32(ld.optionalInt("rope.dimension_count").value_or(hp.headDim),
                              "rope.dimension_count", label, ld.offsetOf("rope.dimension_count"));
    hp.rmsEps = float(ld.optionalFloat("attention.layer_norm_rms_epsilon").value_or(1e-5));
    hp.ropeFreqBase = float(ld.optionalFloat("rope.freq_base").value_or(10000.0));
    hp.ropeNeox = arch.neox;
    if (auto scaling = file->getString(hp.architecture + ".rope.scaling.type")) {
        if (*scaling == "linear") {
            const double factor = ld.optionalFloat("rope.scaling.factor").value_or(1.0);
            if (!(factor > 0.0))
                throw FormatError(label, ld.offsetOf("rope.scaling.factor"),
                                  "rope.scaling.factor must be positive");
            hp.ropeFreqScale = float(1.0 / factor);
        } else if (*scaling != "none") {
            throw UnsupportedError(label + ": RoPE scaling type '" + *scaling +
                                   "' is not supported (supported: none, linear)");
        }
    } else if (auto linear = ld.optionalFloat("rope.scale_linear")) { // older files
        if (!(*linear > 0.0))
            throw FormatError(label, ld.offsetOf("rope.scale_linear"),
                              "rope.scale_linear must be positive");
        hp.ropeFreqScale = float(1.0 / *linear);
    }
    if (!(hp.rmsEps > 0.0f) || !(hp.ropeFreqBase > 0.0f))
        throw FormatError(label, 0, "RMSNorm epsilon and RoPE base must be positive");

    WeightTensor& embd = ModelBuilder::tokenEmbedding(*model);
    embd = ld.tensor("token_embd.weight", true);
    hp.nVocab = checkedInt32(embd.ne1, "vocabulary size (token_embd rows)", label,
                              embd.sourceOffset);
    ModelBuilder::outputNorm(*model) = ld.tensor("output_norm.weight", true);
    WeightTensor out = ld.tensor("output.weight", false);
    hp.tiedOutput = !out.present();
    ModelBuilder::output(*model) = hp.tiedOutput ? embd : out;

    // Llama 3.1's per-dimension RoPE frequency factors change every position's rotation;
    // ignoring them would give plausible-looking but wrong output.
    if (file->findTensor("rope_freqs.weight"))
        throw UnsupportedError(label + ": tensor 'rope_freqs.weight' (Llama 3.1-style RoPE "
                                       "frequency factors) is not supported");

    // block_count sizes the layer table before any layer tensor is looked at: a hostile value
    // must not allocate, so the blocks it claims have to exist (each needs several tensors).
    if (size_t(hp.nLayer) > file->tensors().size() ||
        !file->findTensor("blk." + std::to_string(hp.nLayer - 1) + ".attn_norm.weight"))
        throw FormatError(label, ld.offsetOf("block_count"),
                          "block_count = " + std::to_string(hp.nLayer) +
                              " but tensor 'blk." + std::to_string(hp.nLayer - 1) +
                              ".attn_norm.weight' is missing (the file has " +
                              std::to_string(file->tensors().size()) + " tensors)");
    // The sizes that scale activations and caches must match the tensors the file really has.
    if (embd.ne0 != hp.nEmbd)
        throw FormatError(label, ld.offsetOf("embedding_length"),
                          "embedding_length = " + std::to_string(hp.nEmbd) +
                              " but token_embd.weight rows have " +
                              std::to_string(embd.ne0) + " values");
    if (int64_t(hp.nHead) * hp.headDim > int64_t(1) << 24 ||
        int64_t(hp.nHeadKv) * hp.headDim > int64_t(1) << 24)
        throw FormatError(label, ld.offsetOf("attention.head_count"),
                          "head_count " + std::to_string(hp.nHead) + " x head size " +
                              std::to_string(hp.headDim) + " is out of range");

    auto& layers = ModelBuilder::layers(*model);
    layers.resize(size_t(hp.nLayer));
    for (int i = 0; i < hp.nLayer; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        LayerWeights& l = layers[size_t(i)];
        l.attnNorm = ld.tensor(p + "attn_norm.weight", true);
        l.wq = ld.tensor(p + "attn_q.weight", true);
        l.wk = ld.tensor(p + "attn_k.weight", true);
        l.wv = ld.tensor(p + "attn_v.weight", true);
        l.bq = ld.tensor(p + "attn_q.bias", false);
        l.bk = ld.tensor(p + "attn_k.bias", false);
        l.bv = ld.tensor(p + "attn_v.bias", false);
        l.wo = ld.tensor(p + "attn_output.weight", true);
        l.ffnNorm = ld.tensor(p + "ffn_norm.weight", true);
        l.ffnGate = ld.tensor(p + "ffn_gate.weight", true);
        l.ffnUp = ld.tensor(p + "ffn_up.weight", true);
        l.ffnDown = ld.tensor(p + "ffn_down.weight", true);
    }
    ModelBuilder::validate(*model, label);

    // Fitted early-exit adapters (tenfold-cli calibrate-exits), when the file has them.
    for (int k = 1; k < hp.nLayer; ++k) {
        const std::string p = "tenfold.exit." + std::to_string(k) + ".";
        if (!file->findTensor(p + "weight"))
            continue;
        ExitAdapter a;
        a.layer = k;
        a.weight = ld.tensor(p + "weight", true);
        a.bias = ld.tensor(p + "bias", true);
        if (a.weight.type != GGMLType::F32 || a.bias.type != GGMLType::F32 || a.weight.ne0 != hp.nEmbd ||
            a.weight.ne1 != hp.nEmbd || a.bias.ne0 != hp.nEmbd || a.bias.ne1 != 1)
            throw FormatError(label, a.weight.sourceOffset,
                              "exit adapter '" + p + "weight' must be F32 [" + std::to_string(hp.nEmbd) + " x " +
                                  std::to_string(hp.nEmbd) + "] with an F32 bias of " +
                                  std::to_string(hp.nEmbd));
        ModelBuilder::exitAdapters(*model).push_back(std::move(a));
    }

    ModelBuilder::tokenizer(*model) = Tokenizer::fromGGUF(*file);
    if (model->tokenizer().vocabSize() > hp.nVocab)
        throw FormatError(label, file->metadataOffset("tokenizer.ggml.tokens"),
                          "tokenizer has " + std::to_string(model->tokenizer().vocabSize()) +
                              " tokens but token_embd has " + std::to_string(hp.nVocab) +
                              " rows");
    ModelBuilder::gguf(*model) = std::move(file);
    return model;
}

} // namespace tenfold
