/* hostcheck.c - Host and Origin validation (DESIGN §11.1, mcp.md §8).
 *
 * On a loopback bind only loopback Host names (and allowedHosts) pass: this stops DNS
 * rebinding, where a web page makes a browser send requests to 127.0.0.1 under an attacker's
 * name. On any other bind every Host passes unless allowedHosts is set. A browser's Origin that
 * is not the same host is refused unless it is in allowedHosts. disableHostCheck turns both off. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"

/* the host part of a Host header or an origin's authority, without port and brackets */
static void host_only(const char *in, char *out, size_t cap)
{
    const char *s = in;
    size_t n;
    if (*s == '[') {
        const char *e = strchr(s, ']');
        n = e ? (size_t)(e - s - 1) : strlen(s + 1);
        s++;
    } else {
        const char *colon = strchr(s, ':');
        n = colon ? (size_t)(colon - s) : strlen(s);
    }
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

static bool is_loopback_name(const char *h)
{
    return strcasecmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 || strncmp(h, "127.", 4) == 0 ||
           strcasecmp(h, "localhost.") == 0;
}

bool http_loopback_bind(const char *host)
{
    return is_loopback_name(host);
}

static bool in_allowed(const config *c, const char *h)
{
    for (size_t i = 0; i < c->n_allowed_hosts; i++) {
        char a[256];
        host_only(c->allowed_hosts[i], a, sizeof a);
        /* an entry may be written as a bare host or with a scheme */
        const char *e = c->allowed_hosts[i];
        const char *sch = strstr(e, "://");
        if (sch) {
            host_only(sch + 3, a, sizeof a);
        }
        if (strcasecmp(a, h) == 0 || strcmp(e, "*") == 0) {
            return true;
        }
    }
    return false;
}

bool http_host_allowed(const config *c, const char *host_header)
{
    if (c->disable_host_check) {
        return true;
    }
    if (!host_header || !*host_header) {
        return !http_loopback_bind(c->host) && c->n_allowed_hosts == 0;
    }
    char h[256];
    host_only(host_header, h, sizeof h);
    if (in_allowed(c, h)) {
        return true;
    }
    if (http_loopback_bind(c->host)) {
        return is_loopback_name(h);
    }
    return c->n_allowed_hosts == 0;
}

bool http_origin_allowed(const config *c, const char *origin, const char *host_header)
{
    if (c->disable_host_check || !origin) {
        return true;
    }
    if (strcmp(origin, "null") == 0) {
        return false;
    }
    const char *sch = strstr(origin, "://");
    if (!sch) {
        return false;
    }
    char oh[256];
    host_only(sch + 3, oh, sizeof oh);
    if (in_allowed(c, oh)) {
        return true;
    }
    /* on a loopback bind a page served from this machine is as local as the server */
    if (http_loopback_bind(c->host) && is_loopback_name(oh)) {
        return true;
    }
    /* same host as the request is same-origin enough for a non-browser-exploitable API */
    if (host_header) {
        char h[256];
        host_only(host_header, h, sizeof h);
        if (strcasecmp(h, oh) == 0) {
            return true;
        }
    }
    return false;
}
