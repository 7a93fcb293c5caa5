#pragma once
// Bearer-key authentication. Keys are compared in constant time (the time taken does not depend
// on how many leading bytes of a guess are right), against every configured key, so a client
// cannot learn a key or which key matched from response times.
#include "server_options.h"

#include <optional>
#include <string>
#include <vector>

namespace tenfold::server {

class ApiKeys {
public:
    explicit ApiKeys(std::vector<ApiKey> keys) : keys_(std::move(keys)) {}
    bool required() const { return !keys_.empty(); }
    // The Authorization header's value ("Bearer KEY"); the matched key's label ("" when it has
    // none), or nullopt when no key matches.
    std::optional<std::string> authenticate(const std::string& authorizationHeader) const;

private:
    std::vector<ApiKey> keys_;
};

bool constantTimeEquals(const std::string& a, const std::string& b);

} // namespace tenfold::server
