#pragma once
// Builds the syntax tree from tokens. Errors are TemplateSyntaxError with the position of the
// offending token and what was expected there.
#include "chat/jinja_ast.h"

#include <memory>
#include <string>

namespace tenfold::jinja {

std::shared_ptr<const Program> parseTemplate(const std::string& source);

} // namespace tenfold::jinja
