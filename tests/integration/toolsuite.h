/* toolsuite.h - the fixture of the suites that call tools (test_tools.c, test_readmodes.c,
 * test_ixtools.c, test_graph.c): the test's server S, and `last`, the response behind the text
 * the last tool_callf (OK, FAILS) returned. Criterion runs each test in its own process, so
 * both are the test's own. Kept out of harness.h: the other suites have an S and a `last` of
 * their own. */
#ifndef CTXD_TESTS_TOOLSUITE_H
#define CTXD_TESTS_TOOLSUITE_H

#include "harness.h"

extern server S;
extern resp *last;

/* the suites' .init and .fini: a fresh temp dir and workspace (srv_init); then last freed, the
 * server stopped and the temp dir removed */
void tool_suite_init(void);
void tool_suite_fini(void);

/* a tool call as S's all-scopes token with printf-formatted arguments: asserts HTTP 200 and
 * that isError is unset (OK) or set (FAILS); the result text, valid until the next call */
#define OK(name, ...) tool_callf(&S, &last, S.token, false, name, __VA_ARGS__)
#define FAILS(name, ...) tool_callf(&S, &last, S.token, true, name, __VA_ARGS__)

#endif
