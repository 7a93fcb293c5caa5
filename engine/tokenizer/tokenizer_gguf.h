#pragma once
// GGUF side of the tokenizer: Tokenizer::fromGGUF reads tokenizer.ggml.*; writeTokenizerMetadata
// writes the same keys back so that a model can be exported with its vocab.
#include "tokenizer/tokenizer.h"

namespace tenfold {

class GGUFWriter;

// Reads the tokenizer.ggml.* keys into plain values (no tokenizer is built). Throws FormatError
// for missing or mistyped keys, naming the file and key.
TokenizerVocab readTokenizerVocab(const GGUFFile& file);

// Sets tokenizer.ggml.model, .pre, .tokens, .scores, .token_type, .merges (BPE), the special
// token ids that exist, .add_bos_token, .add_eos_token and .add_space_prefix (SentencePiece).
void writeTokenizerMetadata(GGUFWriter& writer, const Tokenizer& tokenizer);

} // namespace tenfold
