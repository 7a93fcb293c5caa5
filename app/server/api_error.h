#pragma once
// An error a request handler answers with: the HTTP status plus OpenAI's error object
// {"error": {"message", "type", "param", "code"}}. Handlers throw it; the route wrapper turns it
// into the response, so every refusal has the same shape.
#include <stdexcept>
#include <string>

namespace tenfold::server {

class ApiError : public std::runtime_error {
public:
    ApiError(int status, std::string message, std::string param = {}, std::string code = {})
        : std::runtime_error(std::move(message)), status_(status), param_(std::move(param)),
          code_(std::move(code))
    {
    }
    int status() const { return status_; }
    const std::string& param() const { return param_; }
    const std::string& code() const { return code_; }
    // OpenAI's `type` for the status: invalid_request_error, authentication_error, ...
    std::string type() const;

private:
    int status_;
    std::string param_;
    std::string code_;
};

inline std::string ApiError::type() const
{
    switch (status_) {
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 413: return "invalid_request_error";
    case 429: return "rate_limit_error";
    case 503: return "server_overloaded_error";
    default: return status_ >= 500 ? "server_error" : "invalid_request_error";
    }
}

} // namespace tenfold::server
