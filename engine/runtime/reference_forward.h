#pragma once
// The whole Llama forward pass in plain F64 loops: the oracle that tests hold the optimized
// backends against, position by position (max |logit error|), and the arbiter of greedy
// near-ties. Written from the model's definition, not from the CPU runtime: no SIMD, no
// threads, no F16 KV cache, every sum in double. Weights are decoded once by the scalar
// reference kernels (the file's own rounding is part of the model), then held as doubles, so it
// needs 8 bytes per parameter: meant for test-sized models.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace tenfold {

class Model;

class ReferenceForward {
public:
    explicit ReferenceForward(std::shared_ptr<const Model> model);
    ~ReferenceForward();

    int position() const { return pos_; }
    int vocabSize() const;
    // Runs tokens at positions position()..position()+n-1 and returns the logits of every one of
    // them: n * vocab doubles, row t for the token at position()+t. Throws InvalidArgument for a
    // token outside the vocabulary.
    std::vector<double> decode(std::span<const int32_t> tokens);
    // Forgets positions >= nPos.
    void truncate(int nPos);

private:
    struct Matrix {                // [rows][cols], row r = output feature r
        int64_t rows = 0, cols = 0;
        std::vector<double> w;
    };
    struct Layer {
        std::vector<double> attnNorm, ffnNorm, bq, bk, bv;
        Matrix wq, wk, wv, wo, gate, up, down;
        std::vector<double> k, v; // cache: [position][nHeadKv * headDim]
    };
    std::vector<double> forwardOne(int32_t token, int pos);

    std::shared_ptr<const Model> model_;
    Matrix embedding_, output_;
    std::vector<double> outputNorm_;
    std::vector<Layer> layers_;
    int pos_ = 0;
};

} // namespace tenfold
