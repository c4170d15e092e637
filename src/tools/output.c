/* output.c - helpers shared by handlers: failures, arguments, the output cap. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "tools/tool.h"

bool tool_expired(const tool_call *call)
{
    if (call->cancel && atomic_load(call->cancel)) {
        return true;
    }
    return call->deadline_ns && clock_mono_ns() > call->deadline_ns;
}

void tool_progress(tool_call *call, double done, double total, const char *message)
{
    if (!call->progress) {
        return;
    }
    int64_t now = clock_mono_ns();
    if (call->progress_last_ns && now - call->progress_last_ns < 250000000) {
        return;
    }
    call->progress_last_ns = now;
    call->progress(call->progress_ctx, done, total, message);
}

err tool_fail(tool_out *out, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    buf_truncate(&out->text, 0);
    buf_printf(&out->text, "ERROR: %s", msg);
    json_decref(out->structured);
    out->structured = json_pack("{s:s, s:s}", "error_code", code, "message", msg);
    out->is_error = true;
    out->error_code = code;
    return ERR_OK;
}

void tool_cap_output(tool_out *out, size_t max)
{
    if (out->text.len <= max) {
        return;
    }
    size_t total_lines = 1;
    for (size_t i = 0; i + 1 < out->text.len; i++) {
        total_lines += out->text.ptr[i] == '\n';
    }
    size_t cut = max;
    while (cut > 0 && out->text.ptr[cut - 1] != '\n') {
        cut--;
    }
    size_t shown = 0;
    for (size_t i = 0; i < cut; i++) {
        shown += out->text.ptr[i] == '\n';
    }
    buf_truncate(&out->text, cut);
    buf_printf(&out->text,
               "[truncated: %zu of %zu lines shown (maxOutputBytes=%zu) — narrow the request, "
               "e.g. a line window or a smaller path]",
               shown, total_lines, max);
    if (json_is_object(out->structured)) {
        json_object_set_new(out->structured, "truncated", json_true());
    }
}

json_t *arg_get(const tool_call *call, const char *key)
{
    json_t *v = json_object_get(call->args, key);
    return json_is_null(v) ? NULL : v;
}

const char *arg_str(const tool_call *call, const char *key, const char *def)
{
    json_t *v = arg_get(call, key);
    return json_is_string(v) ? json_string_value(v) : def;
}

int64_t arg_int(const tool_call *call, const char *key, int64_t def)
{
    json_t *v = arg_get(call, key);
    if (json_is_integer(v)) {
        return json_integer_value(v);
    }
    if (json_is_real(v)) {
        return (int64_t)json_real_value(v);
    }
    return def;
}

double arg_num(const tool_call *call, const char *key, double def)
{
    json_t *v = arg_get(call, key);
    return json_is_number(v) ? json_number_value(v) : def;
}

bool arg_bool(const tool_call *call, const char *key, bool def)
{
    json_t *v = arg_get(call, key);
    return json_is_boolean(v) ? json_is_true(v) : def;
}
