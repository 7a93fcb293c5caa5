#pragma once
// Real models in and out of the training engine: a Tenfold Model (GGUF, any weight type) becomes
// a TrainConfig plus F32 parameters in ParamLayout order (every tensor dequantised through the
// passes' row conversion), optionally keeping only some of its layers (a distillation student,
// a layer-pruned model before recovery); and trained parameters go back out as a GGUF with the
// source's metadata and tokenizer, the tensor names of llama.cpp, written atomically.
#include "tensor/ggml_type.h"
#include "train/model.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tenfold {
class Model;
}

namespace tenfold::train {

// The training configuration of a loaded model. Throws UnsupportedError for what the training
// engine does not model (QKV biases, exit adapters are dropped silently: they are not trained).
TrainConfig trainConfigOf(const Model& model);

// Which of the source's layers a trainable copy keeps, in order.
std::vector<int> allLayers(int nLayers);
// n layers spread evenly from the bottom: layer i*L/n for i = 0..n-1 (4 of 8: 0, 2, 4, 6) —
// "every k-th layer" when n divides L. Throws InvalidArgument unless 1 <= n <= L.
std::vector<int> spacedLayers(int nLayers, int n);
// The first n layers. Throws InvalidArgument unless 1 <= n <= L.
std::vector<int> firstLayers(int nLayers, int n);
// "0,2,5,7": explicit indices, strictly increasing, each < L. Throws InvalidArgument naming the
// bad item.
std::vector<int> parseLayerList(const std::string& list, int nLayers);

struct TrainableModel {
    TrainConfig config;
    std::vector<float> params;       // ParamLayout(config) order
    std::vector<int> sourceLayers;   // source layer of each layer kept
    std::shared_ptr<const Model> source; // metadata and tokenizer for saving
};

// Dequantises the model's weights (every type with a row converter) into F32 parameters.
// layers: the source layers to keep, in order (empty: all). Throws InvalidArgument for a bad
// layer index, UnsupportedError for a model the training engine cannot represent.
TrainableModel loadTrainable(std::shared_ptr<const Model> model, const std::vector<int>& layers = {});

// Writes params (ParamLayout(config) order) as GGUF v3: the source's metadata with block_count,
// file_type and the layer-dependent keys set for config, its tokenizer, 2-D weights in
// weightType (F32 or F16; norms stay F32, as llama.cpp writes them), through a temporary file
// renamed into place. Throws InvalidArgument for another weightType or a size mismatch, IoError.
void saveTrainableGGUF(const std::filesystem::path& path, const Model& source,
                       const TrainConfig& config, const std::vector<float>& params,
                       GGMLType weightType = GGMLType::F32);

} // namespace tenfold::train
