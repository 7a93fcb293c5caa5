#pragma once
// Errors raised while parsing or rendering a chat template. All carry the position in the
// template source (1-based line and column) so a broken model template can be pinpointed.
#include "core/error.h"

#include <string>

namespace tenfold {

class TemplateError : public Error {
public:
    TemplateError(const std::string& what, int line, int column)
        : Error(what), line_(line), column_(column) {}
    int line() const { return line_; }
    int column() const { return column_; }

private:
    int line_;
    int column_;
};

// An error the engine found at a place in the template; what() is
// "chat template line 3, column 7: <problem>".
class TemplateProblemError : public TemplateError {
public:
    TemplateProblemError(int line, int column, const std::string& problem)
        : TemplateError("chat template line " + std::to_string(line) + ", column " +
                            std::to_string(column) + ": " + problem,
                        line, column),
          problem_(problem) {}
    const std::string& problem() const { return problem_; }

private:
    std::string problem_;
};

// The template text does not parse: "chat template line 3, column 7: expected 'endif', found ...".
class TemplateSyntaxError : public TemplateProblemError {
public:
    using TemplateProblemError::TemplateProblemError;
};

// Evaluation failed: unknown filter or function, wrong operand types, calling a non-callable.
class TemplateRenderError : public TemplateProblemError {
public:
    using TemplateProblemError::TemplateProblemError;
};

// The template called raise_exception(message): the conversation is not one this model accepts
// (e.g. a system message for Gemma). what() is the template's own message.
class TemplateRaisedError : public TemplateError {
public:
    TemplateRaisedError(const std::string& message, int line, int column)
        : TemplateError(message, line, column) {}
};

} // namespace tenfold
