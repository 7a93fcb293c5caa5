#pragma once
// The generation endpoints: /v1/chat/completions, /v1/completions and /v1/embeddings. A
// request is validated and tokenized on the HTTP thread, submitted to the scheduler, and its
// events are written as they come (SSE) or gathered into one body. Either way the response is a
// chunked stream, so a client that goes away is noticed by a failed write and its request is
// cancelled: SSE writes a comment and a plain body writes JSON-legal spaces while waiting.
#include "server_context.h"

#include <httplib.h>

namespace tenfold::server {

void handleGeneration(ServerContext& ctx, Endpoint endpoint, const httplib::Request& req,
                      httplib::Response& res, const std::string& client);
void handleEmbeddings(ServerContext& ctx, const httplib::Request& req, httplib::Response& res,
                      const std::string& client);

// How long a response may go without a byte before a keep-alive is written. A vanished client
// is noticed at the second write after it left (the first only draws the peer's reset), so this
// bounds how long its request keeps running.
constexpr int kKeepAliveMs = 500;

} // namespace tenfold::server
