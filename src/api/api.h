/* api.h - the REST surface: the route table the HTTP server serves. */
#ifndef CTXD_API_API_H
#define CTXD_API_API_H

#include "http/http.h"
#include "tools/dispatch.h"

const route *api_routes(size_t *n);
/* a tool call made by an HTTP request (REST or MCP): the caller fills name, args and the
 * body's workspace/channel (and progress); this fills the rest from r (config snapshot,
 * caller, workspace header, cancel flag, arena), runs tool_dispatch, records the audit fields
 * and adds the RateLimit headers. res is initialized here; release it with
 * dispatch_res_release. */
void api_tool_call(http_req *r, dispatch_req *req, dispatch_res *res);

#endif
