#pragma once
// Turning a repository listing into GGUF choices: the quantization named in a file name and the
// parts of split GGUF sets (llama.cpp's gguf-split names them PREFIX-00001-of-00003.gguf).
#include "hub/hub_types.h"

#include <optional>
#include <string>
#include <vector>

namespace tenfold::hub {

// The quantization type in a GGUF file name, upper case ("Q4_K_M", "IQ4_XS", "Q8_0", "F16",
// "BF16"), the last one in the name; "" when none.
std::string quantOfFileName(const std::string& path);

struct SplitPart {
    std::string prefix;          // path up to "-00001-of-00003.gguf"
    int index = 0;               // 1-based
    int count = 0;
};
// The split-part numbering of a file name, if it has one.
std::optional<SplitPart> splitPartOf(const std::string& path);

// Every *.gguf of the listing as choices: split parts merged into one choice per set, ordered by
// quantization name then file name.
std::vector<GgufChoice> ggufChoices(const std::vector<RepoFile>& files);

// The choice whose quantization is `quant` (case-insensitive), or whose name or any part's path
// equals `file`; nullopt when none matches.
std::optional<GgufChoice> findChoice(const std::vector<GgufChoice>& choices, const std::string& quant,
                                     const std::string& file);

} // namespace tenfold::hub
