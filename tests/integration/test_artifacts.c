/* test_artifacts.c - ctx_artifacts, ctx_proof and ctx_verify as agents see them (tools.md
 * §4.6-4.8): the registry of artifactGlobs files (kinds, Markdown sections, BM25 search in the
 * ctx_search format, list and status), incremental index and rebuild, remove (out of the search
 * until reindex), reads that refresh a stale registry, the deprecated ctx_semantic_search
 * artifacts=true; proofs whose receipts match what the client received and what the audit log
 * holds, stored proofs re-checked against the files (ok, changed, missing) and the receipts
 * against the server's records, stats per tool; persistence across a restart; tenant isolation;
 * scopes (artifacts, +index for index/reindex, +artifacts for write=true) and bad input. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static server S;
static resp *R;

static void up(void)
{
    srv_init(&S);
    R = NULL;
}

static void down(void)
{
    resp_free(R);
    R = NULL;
    srv_cleanup(&S);
}

TestSuite(artifacts, .init = up, .fini = down, .timeout = 120);

#define ART(tok, err, ...) tool_callf(&S, &R, (tok), (err), "ctx_artifacts", __VA_ARGS__)

static void sha256_hex(const char *msg, char out[65])
{
    unsigned char d[32];
    unsigned int n = 0;
    EVP_Digest(msg, strlen(msg), d, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < n; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
}

static long long sc_int(resp *r, const char *k)
{
    return json_integer_value(json_object_get(structured_content(r), k));
}

/* the documents of a small project: two Markdown files under docs/ (one an ADR), an OpenAPI
   spec, a schema, a proto; plus files the default globs do not take */
static void write_docs(void)
{
    ws_write(&S, "docs/design.md",
             "# Design\n\nctxd serves code context to agents.\n\n"
             "## Storage\n\nThe store runs SQLite in WAL mode with a busy timeout of five "
             "seconds.\nEvery row carries its tenant.\n\n"
             "## Transport\n\nHTTP through libmicrohttpd, MCP on /mcp.\n\n"
             "```\n# not a heading: inside a fence\n```\n");
    ws_write(&S, "docs/adr/0001-use-sqlite.md",
             "# ADR 1: use SQLite\n\nStatus: accepted.\n\nWe keep tenants, keys and sessions in "
             "SQLite; PostgreSQL later.\n");
    ws_write(&S, "api/openapi.yaml", "openapi: 3.1.0\npaths:\n  /v1/tools/call:\n    post: {}\n");
    ws_write(&S, "db/schema.sql",
             "CREATE TABLE tenants (id TEXT PRIMARY KEY);\nCREATE TABLE api_keys (key_hash "
             "TEXT);\n");
    ws_write(&S, "proto/events.proto",
             "syntax = \"proto3\";\nmessage ContextEvent { int64 id = 1; }\n");
    ws_write(&S, "notes/todo.md", "# Todo\n\nbusy timeout again\n"); /* not under docs/ */
}

Test(artifacts, index_search_list_status)
{
    write_docs();
    ws_write_bytes(&S, "db/blob.sql", "CREATE\0\x01\x02", 9); /* not text */
    srv_up(&S, "");
    const char *t = ART(S.token, false, "{\"action\":\"index\"}");
    cr_assert(re_matches("^artifacts indexed: 6 files matched \\(5 new or changed, 0 unchanged, 0 "
                         "gone, 1 not UTF-8 text skipped\\) in [0-9.]+ s$",
                         t),
              "%s", t);
    cr_assert_eq(sc_int(R, "changed"), 5);

    t = ART(S.token, false, "{\"action\":\"search\",\"query\":\"busy timeout\"}");
    cr_assert(
        re_matches("^1 results for 'busy timeout' \\(bm25 over [0-9]+ chunks in 5 artifacts\\):\n"
                   "docs/design.md:5-9 Storage \\(doc\\) score=[0-9]+\\.[0-9]{2}\n"
                   "     7\\| The store runs SQLite in WAL mode with a busy timeout of five "
                   "seconds\\.$",
                   t),
        "%s", t);
    json_t *res = json_object_get(structured_content(R), "results");
    cr_assert_eq(json_array_size(res), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 0), "symbol")),
                     "Storage");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 0), "kind")), "doc");

    /* words of a camelCase / snake_case name are found (the code-aware tokenizer) */
    t = ART(S.token, false, "{\"action\":\"search\",\"query\":\"key hash\"}");
    cr_assert(strstr(t, "db/schema.sql:1-2 (sql) score="), "%s", t);
    t = ART(S.token, false, "{\"action\":\"search\",\"query\":\"context event\"}");
    cr_assert(strstr(t, "proto/events.proto:1-2 (proto)"), "%s", t);
    /* the fenced "# not a heading" stays in the Transport section */
    t = ART(S.token, false, "{\"action\":\"search\",\"query\":\"fence\"}");
    cr_assert(strstr(t, "docs/design.md:10-16 Transport (doc)"), "%s", t);
    t = ART(S.token, false, "{\"action\":\"search\",\"query\":\"zzzunknownword\"}");
    cr_assert(re_matches("^0 results for 'zzzunknownword' \\(bm25 over [0-9]+ chunks\\)$", t), "%s",
              t);

    t = ART(S.token, false, "{\"action\":\"list\"}");
    cr_assert(re_matches("^5 artifacts in main \\(name  kind  bytes  updated\\):$", t), "%s", t);
    cr_assert(re_matches("^api/openapi.yaml +openapi  [0-9]+  [0-9]+s ago$", t), "%s", t);
    cr_assert(re_matches("^docs/adr/0001-use-sqlite.md +adr  ", t), "%s", t);
    cr_assert(re_matches("^docs/design.md +doc  ", t), "%s", t);
    cr_assert(re_matches("^db/schema.sql +sql  ", t), "%s", t);
    cr_assert(re_matches("^proto/events.proto +proto  ", t), "%s", t);
    cr_assert(!strstr(t, "notes/todo.md") && !strstr(t, "blob.sql"), "%s", t);

    t = ART(S.token, false, "{\"action\":\"status\"}");
    cr_assert(re_matches("^artifacts of main: 5 files, 0 stored, 0 removed; [0-9]+ chunks, [0-9]+ "
                         "bytes$",
                         t),
              "%s", t);
    cr_assert(re_matches("^indexed [0-9]+s ago by team:all", t), "%s", t);
    cr_assert_eq(sc_int(R, "files"), 5);

    t = ART(S.token, false, "{\"action\":\"list\",\"format\":\"json\"}");
    json_t *doc = json_loads(t, 0, NULL);
    cr_assert_eq(json_array_size(json_object_get(doc, "artifacts")), 5, "%s", t);
    json_decref(doc);
    cr_assert_eq(srv_stop(&S), 0, "the server stops cleanly (no leak under ASan)");
}

Test(artifacts, incremental_remove_and_reindex)
{
    write_docs();
    srv_up(&S, "");
    ART(S.token, false, "{\"action\":\"index\"}");
    /* one file changed, one gone, one added; the rest are only stat'ed */
    ws_write(&S, "docs/design.md", "# Design\n\n## Caching\n\nA read ledger per caller.\n");
    ws_sh(&S, "rm db/schema.sql");
    ws_write(&S, "docs/guide.md", "# Guide\n\nStart with ctx_overview.\n");
    const char *t = ART(S.token, false, "{\"action\":\"index\"}");
    cr_assert(strstr(t, "5 files matched (2 new or changed, 3 unchanged, 1 gone)"), "%s", t);
    t = ART(S.token, false, "{\"action\":\"search\",\"query\":\"busy timeout\"}");
    cr_assert(strncmp(t, "0 results", 9) == 0, "the old version is gone: %s", t);
    t = ART(S.token, false, "{\"action\":\"search\",\"query\":\"read ledger\"}");
    cr_assert(strstr(t, "docs/design.md:3-5 Caching (doc)"), "%s", t);

    /* remove: out of the list and the search, the file untouched, index does not revive it */
    t = ART(S.token, false, "{\"action\":\"remove\",\"name\":\"docs/design.md\"}");
    cr_assert(strstr(t, "removed docs/design.md from the registry and the search"), "%s", t);
    cr_assert(access(ws_path(&S, "docs/design.md"), F_OK) == 0);
    t = ART(S.token, false, "{\"action\":\"search\",\"query\":\"read ledger\"}");
    cr_assert(strncmp(t, "0 results", 9) == 0, "%s", t);
    ART(S.token, false, "{\"action\":\"index\"}");
    t = ART(S.token, false, "{\"action\":\"list\"}");
    cr_assert(!strstr(t, "docs/design.md"), "%s", t);
    t = ART(S.token, false, "{\"action\":\"status\"}");
    cr_assert(strstr(t, "4 files, 0 stored, 1 removed"), "%s", t);
    t = ART(S.token, true, "{\"action\":\"remove\",\"name\":\"docs/design.md\"}");
    cr_assert_str_eq(tool_error_code(R), "not_found");
    /* reindex rebuilds everything, removed entries included */
    t = ART(S.token, false, "{\"action\":\"reindex\"}");
    cr_assert(strstr(t, "5 files matched (5 new or changed, 0 unchanged"), "%s", t);
    t = ART(S.token, false, "{\"action\":\"search\",\"query\":\"read ledger\"}");
    cr_assert(strstr(t, "docs/design.md:3-5 Caching"), "%s", t);
    cr_assert_eq(srv_stop(&S), 0, "the server stops cleanly (no leak under ASan)");
}

Test(artifacts, reads_refresh_a_stale_registry_and_the_alias)
{
    write_docs();
    srv_config(&S, "\"artifactGlobs\": [\"docs/**/*.md\", \"notes/*.md\"]");
    char reader[80];
    cr_assert(srv_token(&S, "reader", "artifacts", reader));
    cr_assert(srv_start(&S));
    /* never indexed: the first read builds it (artifacts scope alone suffices) */
    const char *t = ART(reader, false, "{\"action\":\"search\",\"query\":\"busy timeout\"}");
    cr_assert(strstr(t, "docs/design.md:5-9 Storage (doc)"), "%s", t);
    cr_assert(strstr(t, "notes/todo.md:1-3 Todo (doc)"), "the config's globs: %s", t);
    cr_assert(!strstr(t, "schema.sql"), "%s", t);
    cr_assert(strstr(t, "(artifacts indexed: 3 files matched (3 new or changed"), "%s", t);
    /* fresh now: the next read does not walk again (no note) */
    t = ART(reader, false, "{\"action\":\"list\"}");
    cr_assert(!strstr(t, "artifacts indexed"), "%s", t);

    /* ctx_semantic_search artifacts=true is ctx_artifacts action=search */
    resp *r = call_tool(&S, S.token, "ctx_semantic_search",
                        "{\"query\":\"sqlite postgresql\",\"artifacts\":true}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    t = result_text(r);
    cr_assert(
        strncmp(t, "[deprecated: ctx_semantic_search → use ctx_artifacts action=search]\n",
                strlen("[deprecated: ctx_semantic_search → use ctx_artifacts action=search]\n")) ==
            0,
        "%s", t);
    cr_assert(strstr(t, "docs/adr/0001-use-sqlite.md:1-5 ADR 1: use SQLite (adr)"), "%s", t);
    resp_free(r);
    cr_assert_eq(srv_stop(&S), 0, "the server stops cleanly (no leak under ASan)");
}

Test(artifacts, scopes_and_bad_input)
{
    write_docs();
    srv_config(&S, "");
    char art[80], art_index[80], search[80];
    cr_assert(srv_token(&S, "art", "artifacts", art));
    cr_assert(srv_token(&S, "ai", "artifacts,index", art_index));
    cr_assert(srv_token(&S, "srch", "search", search));
    cr_assert(srv_start(&S));
    resp *r = call_tool(&S, art, "ctx_artifacts", "{\"action\":\"index\"}");
    expect_error(r, 403, "scope_denied");
    cr_assert(strstr(resp_header(r, "WWW-Authenticate"), "scope=\"artifacts index\""), "%s",
              resp_header(r, "WWW-Authenticate"));
    resp_free(r);
    r = call_tool(&S, art, "ctx_artifacts", "{\"action\":\"reindex\"}");
    expect_error(r, 403, "scope_denied");
    resp_free(r);
    r = call_tool(&S, search, "ctx_artifacts", "{\"action\":\"list\"}");
    expect_error(r, 403, "scope_denied");
    resp_free(r);
    ART(art_index, false, "{\"action\":\"index\"}");
    ART(art, false, "{\"action\":\"remove\",\"name\":\"db/schema.sql\"}");

    const char *bad[] = {
        "{\"action\":\"delete\"}",
        "{}",
        "{\"action\":\"search\"}",
        "{\"action\":\"search\",\"query\":\"\"}",
        "{\"action\":\"search\",\"query\":\"x\",\"top_k\":0}",
        "{\"action\":\"search\",\"query\":\"x\",\"top_k\":51}",
        "{\"action\":\"remove\"}",
        "{\"action\":\"list\",\"format\":\"xml\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = call_tool(&S, S.token, "ctx_artifacts", bad[i]);
        expect_error(r, 400, "invalid_arguments");
        resp_free(r);
    }
    ART(S.token, true, "{\"action\":\"remove\",\"name\":\"../etc/passwd\"}");
    cr_assert_str_eq(tool_error_code(R), "not_found");
    /* a FTS5 operator in a query is a word, never syntax */
    const char *t = ART(S.token, false, "{\"action\":\"search\",\"query\":\"NEAR( \\\"OR *\"}");
    cr_assert(strncmp(t, "0 results", 9) == 0 || strstr(t, "results for"), "%s", t);

    /* proofs: write=true needs artifacts as well as search */
    r = call_tool(&S, search, "ctx_proof", "{\"write\":true}");
    expect_error(r, 403, "scope_denied");
    resp_free(r);
    r = call_tool(&S, search, "ctx_proof", "{\"filename\":\"../x.json\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_proof", "{\"max_evidence\":1001}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    r = call_tool(&S, S.token, "ctx_verify", "{\"action\":\"v3\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    tool_callf(&S, &R, S.token, true, "ctx_verify", "{\"action\":\"v2\"}");
    cr_assert_str_eq(tool_error_code(R), "not_found");
    tool_callf(&S, &R, S.token, true, "ctx_verify", "{\"action\":\"proof\",\"id\":\"nope.json\"}");
    cr_assert_str_eq(tool_error_code(R), "not_found");
    cr_assert_eq(srv_stop(&S), 0, "the server stops cleanly (no leak under ASan)");
}

/* the audit line of the request whose X-Request-Id is rid */
static json_t *audit_line(const char *rid)
{
    for (int i = 0; i < 200; i++) {
        json_t *lines = audit_lines(&S);
        size_t k;
        json_t *l;
        json_array_foreach (lines, k, l) {
            const char *id = json_string_value(json_object_get(l, "requestId"));
            if (id && strcmp(id, rid) == 0) {
                json_incref(l);
                json_decref(lines);
                return l;
            }
        }
        json_decref(lines);
        usleep(10000);
    }
    cr_assert_fail("no audit line for %s", rid);
    return NULL;
}

static json_t *find_receipt(json_t *evidence, const char *sha)
{
    size_t i;
    json_t *e;
    json_array_foreach (evidence, i, e) {
        const char *s = json_string_value(json_object_get(e, "resultSha"));
        if (s && strcmp(s, sha) == 0) {
            return e;
        }
    }
    return NULL;
}

Test(artifacts, proof_receipts_match_what_was_served)
{
    srv_up(&S, "");
    index_build_wait(&S);
    resp *a = call_tool(&S, S.token, "ctx_read", "{\"path\":\"src/util.c\",\"mode\":\"full\"}");
    cr_assert_eq(a->status, 200, "%s", a->body);
    resp *b =
        call_tool(&S, S.token, "ctx_read", "{\"path\":\"src/main.c\",\"mode\":\"signatures\"}");
    cr_assert_eq(b->status, 200, "%s", b->body);
    char sha_a[65], sha_b[65];
    sha256_hex(result_text(a), sha_a);
    sha256_hex(result_text(b), sha_b);

    const char *t = tool_callf(&S, &R, S.token, false, "ctx_proof", "{\"format\":\"json\"}");
    json_t *p = json_loads(t, 0, NULL);
    cr_assert(json_is_object(p), "%s", t);
    cr_assert_str_eq(json_string_value(json_object_get(p, "schema")), "ContextProofV1");
    cr_assert_str_eq(json_string_value(json_object_get(p, "workspace")), "main");
    cr_assert_str_eq(json_string_value(json_object_get(p, "channel")), "default");
    cr_assert_str_eq(json_string_value(json_object_get(p, "agent")), "team:all");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(p, "server"), "name")),
                     "ctxd");
    json_t *ev = json_object_get(p, "evidence");
    json_t *ra = find_receipt(ev, sha_a), *rb = find_receipt(ev, sha_b);
    cr_assert(ra && rb, "the SHA-256 of each text received is a receipt: %s", t);
    cr_assert_str_eq(json_string_value(json_object_get(ra, "tool")), "ctx_read");
    /* the receipt's argumentsHmac is the audit line's */
    json_t *la = audit_line(resp_header(a, "X-Request-Id"));
    cr_assert_str_eq(json_string_value(json_object_get(ra, "argumentsHmac")),
                     json_string_value(json_object_get(la, "argumentsHmac")));
    json_decref(la);
    /* the ledger holds the files read with the hash of their bytes */
    char *sha12 = ws_sha12(&S, "src/util.c");
    bool in_ledger = false;
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get(p, "ledger"), i, f) {
        if (strcmp(json_string_value(json_object_get(f, "path")), "src/util.c") == 0) {
            in_ledger = strncmp(json_string_value(json_object_get(f, "sha")), sha12, 12) == 0;
        }
    }
    free(sha12);
    cr_assert(in_ledger, "%s", t);
    json_t *modes = json_object_get(json_object_get(p, "pipeline"), "modes");
    cr_assert_eq(json_integer_value(json_object_get(modes, "full")), 1, "%s", t);
    cr_assert_eq(json_integer_value(json_object_get(modes, "signatures")), 1, "%s", t);
    /* the text form names the same digest as structuredContent */
    json_t *sc = structured_content(R);
    char want[65];
    sha256_hex(t, want);
    cr_assert_str_eq(json_string_value(json_object_get(sc, "sha256")), want);
    json_decref(p);
    resp_free(a);
    resp_free(b);

    t = tool_callf(&S, &R, S.token, false, "ctx_proof", "{}");
    cr_assert(re_matches("^ContextProofV1 main/default by team:all at [0-9T:.-]+Z$", t), "%s", t);
    cr_assert(re_matches("^evidence: [0-9]+ tool calls \\(ctx_read 2", t), "%s", t);
    cr_assert(re_matches("^ledger: 2 files read$", t), "%s", t);
    cr_assert_eq(srv_stop(&S), 0, "the server stops cleanly (no leak under ASan)");
}

Test(artifacts, stored_proof_verified_against_files_and_records)
{
    srv_config(&S, "");
    char other[80];
    cr_assert(srv_token(&S, "other", "search", other));
    cr_assert(srv_start(&S));
    index_build_wait(&S);
    tool_callf(&S, &R, S.token, false, "ctx_read", "{\"path\":\"src/util.c\"}");
    tool_callf(&S, &R, S.token, false, "ctx_read", "{\"path\":\"src/main.c\"}");
    /* a call the handler refuses (400) is recorded without a result: its receipt checks too */
    resp *r = call_tool(&S, S.token, "ctx_artifacts", "{\"action\":\"search\"}");
    expect_error(r, 400, "invalid_arguments");
    resp_free(r);
    const char *t = tool_callf(&S, &R, S.token, false, "ctx_proof",
                               "{\"write\":true,\"filename\":\"p1.json\"}");
    cr_assert(strstr(t, "stored as artifact p1.json"), "%s", t);
    t = ART(S.token, false, "{\"action\":\"list\"}");
    cr_assert(re_matches("^p1.json +proof  [0-9]+  [0-9]+s ago \\(stored\\)$", t), "%s", t);
    t = ART(S.token, false, "{\"action\":\"search\",\"query\":\"ContextProofV1\"}");
    cr_assert(strstr(t, "p1.json:1-1 (proof)"), "%s", t);

    t = tool_callf(&S, &R, S.token, false, "ctx_verify", "{\"action\":\"proof\"}");
    cr_assert_str_eq(t, "files of proof p1.json in main: 2 ok, 0 changed, 0 missing");
    t = tool_callf(&S, &R, S.token, false, "ctx_verify", "{\"action\":\"v2\"}");
    cr_assert(
        re_matches("^receipts of proof p1.json in main: [1-9][0-9]* ok, 0 changed, 0 missing$", t),
        "%s", t);
    ws_write(&S, "src/util.c", "int add(int a, int b) { return b + a; }\n");
    ws_sh(&S, "rm src/main.c");
    t = tool_callf(&S, &R, S.token, false, "ctx_verify",
                   "{\"action\":\"proof\",\"id\":\"p1.json\"}");
    cr_assert(re_matches("^files of proof p1.json in main: 0 ok, 1 changed, 1 missing$", t), "%s",
              t);
    cr_assert(re_matches("^changed  src/util.c  \\(was [0-9a-f]{12}, now [0-9a-f]{12}\\)$", t),
              "%s", t);
    cr_assert(re_matches("^missing  src/main.c  \\(gone, unreadable or over maxReadBytes\\)$", t),
              "%s", t);
    json_t *sc = structured_content(R);
    cr_assert_eq(json_integer_value(json_object_get(sc, "changed")), 1);

    /* another agent has no proof of its own; the receipts are the caller's */
    tool_callf(&S, &R, other, true, "ctx_verify", "{\"action\":\"v2\"}");
    cr_assert_str_eq(tool_error_code(R), "not_found");
    t = tool_callf(&S, &R, other, false, "ctx_verify", "{\"action\":\"v2\",\"id\":\"p1.json\"}");
    cr_assert(re_matches("^receipts of proof p1.json in main: 0 ok, 0 changed, [1-9][0-9]* "
                         "missing$|^receipts of proof p1.json in main: 0 ok, [1-9][0-9]* changed",
                         t),
              "another agent's records are not its own: %s", t);

    /* stored proofs, the registry and the receipts survive a restart */
    cr_assert_eq(srv_stop(&S), 0);
    cr_assert(srv_start(&S));
    t = tool_callf(&S, &R, S.token, false, "ctx_verify", "{\"action\":\"v2\"}");
    cr_assert(
        re_matches("^receipts of proof p1.json in main: [1-9][0-9]* ok, 0 changed, 0 missing$", t),
        "%s", t);
    t = ART(S.token, false, "{\"action\":\"status\"}");
    cr_assert(strstr(t, "1 stored"), "%s", t);
    t = ART(S.token, false, "{\"action\":\"remove\",\"name\":\"p1.json\"}");
    cr_assert_str_eq(t, "removed p1.json (the stored artifact is deleted)");
    tool_callf(&S, &R, S.token, true, "ctx_verify", "{\"action\":\"proof\",\"id\":\"p1.json\"}");
    cr_assert_str_eq(tool_error_code(R), "not_found");
    cr_assert_eq(srv_stop(&S), 0, "the server stops cleanly (no leak under ASan)");
}

Test(artifacts, verify_stats_count_the_callers_calls)
{
    srv_up(&S, "");
    for (int i = 0; i < 3; i++) {
        tool_callf(&S, &R, S.token, false, "ctx_tree", "{\"channelId\":\"stats\"}");
    }
    tool_callf(&S, &R, S.token, true, "ctx_read", "{\"path\":\"nope.c\",\"channelId\":\"stats\"}");
    const char *t = tool_callf(&S, &R, S.token, false, "ctx_verify", "{\"channelId\":\"stats\"}");
    cr_assert(
        re_matches("^stats for team:all in main/stats: 4 calls, 1 errors \\(25\\.0%\\), [0-9]+ "
                   "bytes sent \\(~[0-9]+ tokens\\)\nby tool: ctx_tree 3, ctx_read 1$",
                   t),
        "%s", t);
    json_t *tools = json_object_get(structured_content(R), "tools");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(tools, "ctx_read"), "errors")),
                 1);
    /* another channel counts apart */
    t = tool_callf(&S, &R, S.token, false, "ctx_verify", "{\"channelId\":\"other\"}");
    cr_assert(strstr(t, ": 0 calls, 0 errors"), "%s", t);
    cr_assert_eq(srv_stop(&S), 0, "the server stops cleanly (no leak under ASan)");
}

Test(artifacts, tenants_see_only_their_own)
{
    write_docs();
    char more[600];
    snprintf(more, sizeof more, "{\"id\": \"aws\", \"root\": \"%s\", \"tenant\": \"acme\"}", S.ws);
    srv_config_ws(&S, more, "");
    srv_tenant(&S, "acme");
    char acme[128];
    srv_key(&S, "acme", "admin", NULL, acme);
    cr_assert(srv_start(&S), "server did not start");
    tool_callf(&S, &R, S.token, false, "ctx_proof", "{\"write\":true,\"filename\":\"local.json\"}");
    ART(S.token, false, "{\"action\":\"remove\",\"name\":\"docs/design.md\"}");
    /* acme's registry of the same files is its own: nothing removed, no stored proof */
    const char *t = ART(acme, false, "{\"action\":\"list\",\"workspaceId\":\"aws\"}");
    cr_assert(strstr(t, "docs/design.md") && !strstr(t, "local.json"), "%s", t);
    ART(acme, true, "{\"action\":\"remove\",\"name\":\"local.json\",\"workspaceId\":\"aws\"}");
    cr_assert_str_eq(tool_error_code(R), "not_found");
    tool_callf(&S, &R, acme, true, "ctx_verify",
               "{\"action\":\"proof\",\"id\":\"local.json\",\"workspaceId\":\"aws\"}");
    cr_assert_str_eq(tool_error_code(R), "not_found");
    resp *r =
        call_tool(&S, acme, "ctx_artifacts", "{\"action\":\"list\",\"workspaceId\":\"main\"}");
    expect_error(r, 400, "unknown_workspace");
    resp_free(r);
    cr_assert_eq(srv_stop(&S), 0, "the server stops cleanly (no leak under ASan)");
}
