/* toolsuite.c - see toolsuite.h. */
#include "toolsuite.h"

#include <stddef.h>

server S;
resp *last;

void tool_suite_init(void)
{
    srv_init(&S);
}

void tool_suite_fini(void)
{
    resp_free(last);
    last = NULL;
    srv_cleanup(&S);
}
