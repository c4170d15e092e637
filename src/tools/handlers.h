/* handlers.h - declarations of every handler and schema named in tools.def. */
#ifndef CTXD_TOOLS_HANDLERS_H
#define CTXD_TOOLS_HANDLERS_H

#include "tools/tool.h"

#define X(c, name, title, scopes, cost, ro, de, id, quick, needs, desc)                            \
    err tool_##c(tool_call *call, tool_out *out);                                                  \
    extern const char c##_schema[];
#include "tools/tools.def"
#undef X

#endif
