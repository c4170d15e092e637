/* api.h - the REST surface: the route table the HTTP server serves. */
#ifndef CTXD_API_API_H
#define CTXD_API_API_H

#include "http/http.h"
#include "tools/dispatch.h"

const route *api_routes(size_t *n);

#endif
