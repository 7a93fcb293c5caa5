#pragma once
// JSON in and out of template values. Output follows Python's json.dumps as Hugging Face's
// `tojson` filter calls it (ensure_ascii=False, ", " and ": " separators, or "," and ": " with an
// indent), so rendered tool definitions match what the model saw in training.
#include "chat/jinja_value.h"

#include <string>

namespace tenfold::jinja {

// indent < 0: single line.
std::string toJson(const Value& value, int indent = -1);
// Parses JSON text (objects keep key order). Throws ValueError with the byte offset on bad input.
Value parseJson(const std::string& text);

} // namespace tenfold::jinja
