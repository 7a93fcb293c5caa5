#pragma once
// Walks a parsed template and produces its text. Variables come from `variables` (e.g.
// messages, add_generation_prompt, bos_token); the global functions are always present.
#include "chat/jinja_ast.h"

#include <string>

namespace tenfold::jinja {

// Throws TemplateRenderError (with position) for evaluation failures and TemplateRaisedError
// when the template calls raise_exception().
std::string renderProgram(const Program& program, const ValueDict& variables);

} // namespace tenfold::jinja
