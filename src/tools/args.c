/* args.c - the JSON Schema subset validator (see args.h). */
#include "tools/args.h"

#include <stdio.h>
#include <string.h>

static bool type_is(const json_t *v, const char *t)
{
    if (strcmp(t, "string") == 0) {
        return json_is_string(v);
    }
    if (strcmp(t, "integer") == 0) {
        return json_is_integer(v) ||
               (json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v));
    }
    if (strcmp(t, "number") == 0) {
        return json_is_number(v);
    }
    if (strcmp(t, "boolean") == 0) {
        return json_is_boolean(v);
    }
    if (strcmp(t, "array") == 0) {
        return json_is_array(v);
    }
    if (strcmp(t, "object") == 0) {
        return json_is_object(v);
    }
    if (strcmp(t, "null") == 0) {
        return json_is_null(v);
    }
    return false;
}

static const char *article_type(const json_t *type)
{
    if (json_is_string(type)) {
        const char *t = json_string_value(type);
        if (strcmp(t, "integer") == 0) {
            return "an integer";
        }
        if (strcmp(t, "array") == 0) {
            return "an array";
        }
        if (strcmp(t, "object") == 0) {
            return "an object";
        }
        if (strcmp(t, "boolean") == 0) {
            return "a boolean";
        }
        if (strcmp(t, "number") == 0) {
            return "a number";
        }
        return "a string";
    }
    return "a string or an array";
}

static bool check_value(const char *name, const json_t *schema, const json_t *v, char *why,
                        size_t why_len)
{
    const json_t *type = json_object_get(schema, "type");
    if (type) {
        bool ok = false;
        if (json_is_string(type)) {
            ok = type_is(v, json_string_value(type));
        } else if (json_is_array(type)) {
            size_t i;
            json_t *t;
            json_array_foreach (type, i, t) {
                ok = ok || type_is(v, json_string_value(t));
            }
        }
        if (!ok) {
            snprintf(why, why_len, "%s must be %s", name, article_type(type));
            return false;
        }
    }
    const json_t *en = json_object_get(schema, "enum");
    if (en) {
        bool ok = false;
        size_t i;
        json_t *e;
        json_array_foreach (en, i, e) {
            ok = ok || json_equal(e, (json_t *)v);
        }
        if (!ok) {
            char list[512] = "";
            size_t o = 0;
            json_array_foreach (en, i, e) {
                if (json_is_string(e) && o < sizeof list - 64) {
                    o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "",
                                          json_string_value(e));
                }
            }
            snprintf(why, why_len, "%s must be one of: %s", name, list);
            return false;
        }
    }
    if (json_is_number(v)) {
        double d = json_number_value(v);
        const json_t *mn = json_object_get(schema, "minimum");
        const json_t *mx = json_object_get(schema, "maximum");
        if ((mn && d < json_number_value(mn)) || (mx && d > json_number_value(mx))) {
            if (mn && mx) {
                snprintf(why, why_len, "%s must be between %g and %g", name, json_number_value(mn),
                         json_number_value(mx));
            } else if (mn) {
                snprintf(why, why_len, "%s must be at least %g", name, json_number_value(mn));
            } else {
                snprintf(why, why_len, "%s must be at most %g", name, json_number_value(mx));
            }
            return false;
        }
    }
    if (json_is_string(v)) {
        const json_t *ml = json_object_get(schema, "maxLength");
        if (ml && json_string_length(v) > (size_t)json_integer_value(ml)) {
            snprintf(why, why_len, "%s is longer than %lld bytes", name,
                     (long long)json_integer_value(ml));
            return false;
        }
    }
    if (json_is_array(v)) {
        const json_t *mi = json_object_get(schema, "maxItems");
        if (mi && json_array_size(v) > (size_t)json_integer_value(mi)) {
            snprintf(why, why_len, "%s has more than %lld items", name,
                     (long long)json_integer_value(mi));
            return false;
        }
        const json_t *items = json_object_get(schema, "items");
        if (items) {
            size_t i;
            json_t *e;
            json_array_foreach (v, i, e) {
                char sub[160];
                snprintf(sub, sizeof sub, "%s[%zu]", name, i);
                if (!check_value(sub, items, e, why, why_len)) {
                    return false;
                }
            }
        }
    }
    return true;
}

bool args_validate(const json_t *schema, const json_t *args, buf *unknown, char *why,
                   size_t why_len)
{
    if (!json_is_object(args)) {
        snprintf(why, why_len, "arguments must be a JSON object");
        return false;
    }
    const json_t *props = json_object_get(schema, "properties");
    const json_t *addl = json_object_get(schema, "additionalProperties");
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)args, k, v) {
        const json_t *ps = props ? json_object_get(props, k) : NULL;
        if (!ps) {
            if (addl && json_is_false(addl)) {
                snprintf(why, why_len, "this tool takes no argument '%s'", k);
                return false;
            }
            if (unknown) {
                if (unknown->len) {
                    buf_puts(unknown, ", ");
                }
                buf_puts(unknown, k);
            }
            continue;
        }
        if (json_is_null(v)) {
            continue; /* null = not given */
        }
        if (!check_value(k, ps, v, why, why_len)) {
            return false;
        }
    }
    const json_t *req = json_object_get(schema, "required");
    size_t i;
    json_t *r;
    json_array_foreach (req, i, r) {
        json_t *got = json_object_get(args, json_string_value(r));
        if (!got || json_is_null(got)) {
            snprintf(why, why_len, "%s is required", json_string_value(r));
            return false;
        }
    }
    return true;
}
