/* mcp.h - the Model Context Protocol on /mcp (both eras) and the stdio bridge. */
#ifndef CTXD_MCP_MCP_H
#define CTXD_MCP_MCP_H

#include "http/http.h"

/* the /mcp and /.well-known routes, appended to the REST table by the API layer */
const route *mcp_routes(size_t *n);

/* the tool set may have changed (config reload): tell the sessions' GET streams */
void mcp_tools_changed(void);

/* `ctxd connect`: an MCP server on stdin/stdout that forwards to a team server */
int mcp_connect_main(int argc, char **argv);

#endif
