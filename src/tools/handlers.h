/* handlers.h - declarations of every handler and schema named in tools.def. */
#ifndef CTXD_TOOLS_HANDLERS_H
#define CTXD_TOOLS_HANDLERS_H

#include "tools/tool.h"

#define X(c, name, title, scopes, cost, ro, de, id, quick, needs, desc)                            \
    err tool_##c(tool_call *call, tool_out *out);                                                  \
    extern const char c##_schema[];
#include "tools/tools.def"
#undef X

/* needs() functions named in tools.def (tools.md §1.10) */
void ctx_search_needs(const json_t *args, scope_set *scopes, int *cost); /* symbols.c */
void ctx_index_needs(const json_t *args, scope_set *scopes, int *cost);  /* index_tool.c */
void ctx_graph_needs(const json_t *args, scope_set *scopes, int *cost);  /* graph.c */
void ctx_impact_needs(const json_t *args, scope_set *scopes, int *cost); /* impact.c */
/* SESSIONS (issue 6) */
void ctx_session_needs(const json_t *args, scope_set *scopes, int *cost);  /* session.c */
void ctx_handoff_needs(const json_t *args, scope_set *scopes, int *cost);  /* session_xfer.c */
void ctx_share_needs(const json_t *args, scope_set *scopes, int *cost);    /* session_xfer.c */
void ctx_workflow_needs(const json_t *args, scope_set *scopes, int *cost); /* session_flow.c */
/* KNOWLEDGE (issue 6) */
void ctx_knowledge_needs(const json_t *args, scope_set *scopes, int *cost); /* knowledge.c */
/* ARTIFACTS (issue 6) */
void ctx_artifacts_needs(const json_t *args, scope_set *scopes, int *cost); /* artifacts.c */
void ctx_proof_needs(const json_t *args, scope_set *scopes, int *cost);     /* proof.c */
/* METRICS (issue 6): metrics_tools.c */
void ctx_cost_needs(const json_t *args, scope_set *scopes, int *cost);
/* ctx_search's actions other than regex (symbols.c) */
err ctx_search_index(tool_call *call, tool_out *out);

#endif
