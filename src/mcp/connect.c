/* connect.c - `ctxd connect`: the stdio MCP bridge (being written). */
#include "mcp/mcp.h"
