#pragma once
// A model's weight bytes split by what the Prune and Distill wizards remove (per-layer attention
// and FFN tensors, everything else), read from the GGUF header once, off the GUI thread, so each
// choice's predicted size and generation speed show as the user makes it. Decode reads every
// weight once per token, so the predicted speed-up is the ratio of weight bytes: a memory-bound
// estimate, not a measurement (the results page measures).
#include <QString>

#include <cstdint>

namespace tenfold::ui {

struct ModelShape {
    int layers = 0, kvHeads = 0, ffn = 0;
    uint64_t fileBytes = 0;
    uint64_t attnBytes = 0, ffnBytes = 0, otherBytes = 0; // tensor data
    uint64_t layerElements = 0, otherMatrixElements = 0, vectorElements = 0; // for an F16 copy

    // Throws the engine's IoError / FormatError.
    static ModelShape read(const QString& path);
    uint64_t tensorBytes() const { return attnBytes + ffnBytes + otherBytes; }
    // Bytes after a structured cut (fractions of KV groups / FFN channels removed per layer,
    // layers kept); the header is carried over.
    uint64_t prunedBytes(const QString& method, double sparsity, int layersKeep) const;
    // Bytes of an F16 student of n of the layers.
    uint64_t studentBytes(int n) const;
};

} // namespace tenfold::ui
