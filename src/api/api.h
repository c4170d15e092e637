/* api.h - the REST surface: the route table the HTTP server serves. */
#ifndef CTXD_API_API_H
#define CTXD_API_API_H

#include "http/http.h"
#include "tools/dispatch.h"

const route *api_routes(size_t *n);
/* append a dispatch result as MCP's CallToolResult (also the REST `result`) */
void api_call_result(buf *out, const dispatch_res *res);

#endif
