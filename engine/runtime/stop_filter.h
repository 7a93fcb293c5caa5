#pragma once
// Holds back generated text that might be the start of a stop string, so a stop string never
// reaches the caller, not even in part. Shared by the single-sequence generator and the server's
// scheduler.
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tenfold {

class StopFilter {
public:
    explicit StopFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {}

    // Appends text; returns what is safe to emit. Sets `stopped` when a stop string completed
    // (the text before the earliest one is emitted, the stop string and anything after it are
    // dropped).
    std::string push(std::string_view text, bool& stopped)
    {
        pending_ += text;
        size_t first = std::string::npos;
        for (const auto& s : stops_)
            if (!s.empty())
                first = std::min(first, pending_.find(s));
        if (first != std::string::npos) {
            stopped = true;
            std::string out = pending_.substr(0, first);
            pending_.clear();
            return out;
        }
        // Keep the longest suffix that is a prefix of some stop string.
        size_t hold = 0;
        for (const auto& s : stops_)
            for (size_t len = s.empty() ? 0 : std::min(s.size() - 1, pending_.size()); len > hold; --len)
                if (pending_.compare(pending_.size() - len, len, s, 0, len) == 0) {
                    hold = len;
                    break;
                }
        std::string out = pending_.substr(0, pending_.size() - hold);
        pending_.erase(0, pending_.size() - hold);
        return out;
    }
    std::string flush() { return std::exchange(pending_, {}); }

private:
    std::vector<std::string> stops_;
    std::string pending_;
};

} // namespace tenfold
