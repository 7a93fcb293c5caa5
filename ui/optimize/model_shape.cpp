#include "optimize/model_shape.h"

#include "gguf/gguf_file.h"

#include <cmath>
#include <regex>

namespace tenfold::ui {

ModelShape ModelShape::read(const QString& path)
{
    const std::shared_ptr<GGUFFile> f = GGUFFile::open(path.toStdString());
    ModelShape s;
    s.fileBytes = f->fileSize();
    static const std::regex kLayer(R"(blk\.(\d+)\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight)");
    int maxLayer = -1;
    for (const GGUFTensorInfo& t : f->tensors()) {
        int64_t elements = 1;
        for (int64_t n : t.ne)
            elements *= n;
        std::smatch m;
        if (std::regex_match(t.name, m, kLayer)) {
            maxLayer = std::max(maxLayer, std::stoi(m[1].str()));
            (m[2].str().rfind("attn", 0) == 0 ? s.attnBytes : s.ffnBytes) += t.nbytes;
            s.layerElements += uint64_t(elements);
            if (m[2].str() == "ffn_up" && t.ne.size() >= 2)
                s.ffn = int(t.ne[1]);
        } else {
            s.otherBytes += t.nbytes;
            if (t.ne.size() >= 2 && t.ne[1] > 1)
                s.otherMatrixElements += uint64_t(elements);
            else
                s.vectorElements += uint64_t(elements);
        }
    }
    s.layers = maxLayer + 1;
    // The GQA key groups (a KV head with the query heads that read it) are what `heads` removes.
    const std::string arch = f->getString("general.architecture").value_or("llama");
    for (const std::string& key : {arch + ".attention.head_count_kv", arch + ".attention.head_count"})
        if (s.kvHeads == 0)
            if (const auto* v = f->find(key); v && v->isInteger())
                s.kvHeads = int(v->toInt());
    return s;
}

uint64_t ModelShape::prunedBytes(const QString& method, double sparsity, int layersKeep) const
{
    const uint64_t header = fileBytes > tensorBytes() ? fileBytes - tensorBytes() : 0;
    if (method == QLatin1String("layers") && layers > 0)
        return header + otherBytes + (attnBytes + ffnBytes) * uint64_t(layersKeep) / uint64_t(layers);
    if (method == QLatin1String("heads") && kvHeads > 0) {
        const int removed = std::min(kvHeads - 1, int(std::floor(sparsity * kvHeads)));
        return header + otherBytes + ffnBytes + attnBytes * uint64_t(kvHeads - removed) / uint64_t(kvHeads);
    }
    if (method == QLatin1String("ffn") && ffn > 0) {
        const int removed = std::min(ffn - 1, int(std::floor(sparsity * ffn)));
        return header + otherBytes + attnBytes + ffnBytes * uint64_t(ffn - removed) / uint64_t(ffn);
    }
    return fileBytes; // zeros are stored: the file keeps its size
}

uint64_t ModelShape::studentBytes(int n) const
{
    const uint64_t header = fileBytes > tensorBytes() ? fileBytes - tensorBytes() : 0;
    const uint64_t perLayer = layers > 0 ? layerElements / uint64_t(layers) : 0;
    // Matrices in F16, norms in F32 (as saveTrainableGGUF writes them); norms are few, so the
    // layer norms are counted with the other vectors at full count: a slight overestimate.
    return header + 2 * (otherMatrixElements + perLayer * uint64_t(n)) + 4 * vectorElements;
}

} // namespace tenfold::ui
