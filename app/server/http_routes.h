#pragma once
// The HTTP surface: routes, authentication, OpenAI-shaped errors for every refusal (httplib's own
// 404 and 413 included), and the timeouts and thread pool that keep slow clients from stalling
// others.
#include "server_context.h"

#include <httplib.h>

namespace tenfold::server {

// Connection threads: every streaming client holds one for as long as it reads, so there are
// more of them than sequences generating at once; connections past the pool wait to be served.
int httpThreadCount(const ServerOptions& options);

void configureServer(httplib::Server& http, ServerContext& ctx);

} // namespace tenfold::server
