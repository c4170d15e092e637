/* err.c - lookups into ERR_LIST. */
#include "core/err.h"

static const struct {
    int status;
    int rpc;
    const char *code;
} rows[] = {
#define X(name, status, rpc, code) {status, rpc, code},
    ERR_LIST(X)
#undef X
};

int err_http_status(err e)
{
    return (unsigned)e < ERR__COUNT ? rows[e].status : 500;
}

int err_rpc_code(err e)
{
    return (unsigned)e < ERR__COUNT ? rows[e].rpc : -32603;
}

const char *err_code(err e)
{
    return (unsigned)e < ERR__COUNT ? rows[e].code : "internal";
}
