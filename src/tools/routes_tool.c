/* routes_tool.c - ctx_routes: the HTTP endpoints the index found, without opening route files
 * (tools.md §3.4).
 *
 * The index extracts routes per file by framework conventions (routes table: method, path,
 * handler, line, framework); this tool filters and lists them in (file, line) order. A route
 * registered for every method (method ANY) matches any method filter. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tools/graphdb.h"
#include "tools/handlers.h"
#include "tools/ixtools.h"

const char ctx_routes_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"method\":{\"type\":\"string\",\"enum\":[\"GET\",\"POST\",\"PUT\",\"PATCH\",\"DELETE\","
    "\"HEAD\",\"OPTIONS\",\"ANY\",\"get\",\"post\",\"put\",\"patch\",\"delete\",\"head\","
    "\"options\",\"any\"],\"description\":\"keep routes of this method (case-insensitive)\"},"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"keep routes whose path "
    "starts with this\"}}}";

#define MAX_ROUTES 2000

err tool_ctx_routes(tool_call *call, tool_out *out)
{
    const char *method = arg_str(call, "method", NULL);
    const char *prefix = arg_str(call, "path", NULL);
    char m[16] = "";
    if (method) {
        size_t i = 0;
        for (; method[i] && i + 1 < sizeof m; i++) {
            m[i] = (char)(method[i] >= 'a' && method[i] <= 'z' ? method[i] - 32 : method[i]);
        }
        m[i] = '\0';
    }
    bool any = !*m || strcmp(m, "ANY") == 0;
    ix_view v;
    if (!ixt_open(call, out, &v)) {
        return ERR_OK;
    }
    sqlite3_stmt *st = gx_prep(v.db, "SELECT upper(coalesce(r.method, 'ANY')), "
                                     "coalesce(r.path, ''), coalesce(r.handler, ''), f.path, "
                                     "coalesce(r.line, 0), coalesce(r.framework, '') "
                                     "FROM routes r JOIN files f ON f.id = r.file_id "
                                     "ORDER BY f.path, r.line, r.path, r.method");
    if (!st) {
        index_view_close(&v);
        return ERR_INTERNAL;
    }
    buf body;
    buf_init(&body, (size_t)8 << 20);
    json_t *arr = json_array();
    int64_t total = 0, kept = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        total++;
        const char *rm = (const char *)sqlite3_column_text(st, 0);
        const char *rp = (const char *)sqlite3_column_text(st, 1);
        if (!any && strcmp(rm, m) != 0 && strcmp(rm, "ANY") != 0) {
            continue;
        }
        if (prefix && *prefix && strncmp(rp, prefix, strlen(prefix)) != 0) {
            continue;
        }
        if (++kept > MAX_ROUTES) {
            continue;
        }
        const char *handler = (const char *)sqlite3_column_text(st, 2);
        const char *file = (const char *)sqlite3_column_text(st, 3);
        int64_t line = sqlite3_column_int64(st, 4);
        buf_printf(&body, "  %6s %s", rm, rp);
        if (*handler) {
            buf_printf(&body, " → %s", handler);
        }
        buf_printf(&body, " (%s:L%lld)\n", file, (long long)line);
        json_t *r =
            json_pack("{s:s, s:s, s:s, s:I, s:s}", "method", rm, "path", rp, "file", file, "line",
                      (json_int_t)line, "framework", (const char *)sqlite3_column_text(st, 5));
        if (r) {
            json_object_set_new(r, "handler", *handler ? json_string(handler) : json_null());
            json_array_append_new(arr, r);
        }
    }
    sqlite3_finalize(st);
    if (kept > 0) {
        buf_printf(&out->text, "%lld route(s):\n", (long long)kept);
        buf_append(&out->text, body.ptr, body.len);
        if (kept > MAX_ROUTES) {
            buf_printf(&out->text, "(+%lld more not shown; filter with method= or path=)\n",
                       (long long)(kept - MAX_ROUTES));
        }
    } else if (total == 0) {
        buf_printf(&out->text, "No HTTP routes found in project (%lld files scanned)\n",
                   (long long)gx_scalar(v.db, "SELECT COUNT(*) FROM files", 0));
    } else {
        buf_printf(&out->text, "No routes matching '%s%s%s' (%lld total routes found)\n", m,
                   *m && prefix && *prefix ? " " : "", prefix ? prefix : "", (long long)total);
    }
    bool failed = body.failed;
    buf_release(&body);
    out->structured = json_pack("{s:o}", "routes", arr);
    index_view_close(&v);
    return failed ? ERR_NOMEM : ERR_OK;
}
