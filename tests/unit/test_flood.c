/* test_flood.c - flood summaries: the first refusal of a window is written by its request, the
 * rest become one line with count, firstTs and lastTs when the window is over. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "http/flood.h"

Test(flood, counts_the_refusals_after_the_first_of_a_window)
{
    char dir[] = "/tmp/ctxd-flood-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char log[128], key[128];
    snprintf(log, sizeof log, "%s/audit.log", dir);
    snprintf(key, sizeof key, "%s/key", dir);
    char why[256];
    cr_assert_eq(audit_open(log, key, 1000, why, sizeof why), ERR_OK, "%s", why);
    flood_set_window_ms(200);
    cr_assert(flood_refusal("10.0.0.1", "/v1/manifest"), "the first refusal is written now");
    for (int i = 0; i < 4; i++) {
        cr_assert_not(flood_refusal("10.0.0.1", "/v1/manifest"));
    }
    cr_assert(flood_refusal("10.0.0.2", "/mcp"), "another address has its own window");
    flood_flush();
    FILE *f = fopen(log, "r");
    char line[2048];
    cr_assert_null(fgets(line, sizeof line, f), "nothing before the window is over: %s", line);
    fclose(f);
    usleep(300000);
    flood_flush();
    f = fopen(log, "r");
    cr_assert_not_null(fgets(line, sizeof line, f));
    fclose(f);
    json_t *j = json_loads(line, 0, NULL);
    cr_assert_not_null(j, "%s", line);
    cr_assert_eq(json_integer_value(json_object_get(j, "count")), 4);
    cr_assert_str_eq(json_string_value(json_object_get(j, "sourceIp")), "10.0.0.1");
    cr_assert_str_eq(json_string_value(json_object_get(j, "deniedReason")), "rate_limited");
    cr_assert(json_is_string(json_object_get(j, "firstTs")) &&
              json_is_string(json_object_get(j, "lastTs")));
    cr_assert(json_is_null(json_object_get(j, "tokenId")));
    json_decref(j);
    audit_close();
}
