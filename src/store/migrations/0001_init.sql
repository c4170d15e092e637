-- 0001_init.sql: tenants, API keys, workspaces and the request log (DESIGN §8, §10).
-- Timestamps are RFC 3339 UTC text with milliseconds, except request_log.ts (milliseconds since
-- the epoch, for range scans). Rows of a tenant carry tenant_id; keys and workspaces go with
-- their tenant (ON DELETE CASCADE); log rows are deleted with it explicitly (no foreign key, so
-- that a batch of log rows never fails on a tenant deleted meanwhile).

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    storage_quota_bytes INTEGER,                    -- NULL: no quota
    storage_used_bytes INTEGER NOT NULL DEFAULT 0,
    rate_limit_tier TEXT NOT NULL DEFAULT 'default'
);

CREATE TABLE api_keys (
    key_hash TEXT PRIMARY KEY,                      -- lowercase hex SHA-256 of the whole key
    key_prefix TEXT NOT NULL UNIQUE,                -- ctxd_live_<tenant>_<8 random chars>
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,                           -- canonical scope names, comma-separated
    rate_limit_tier TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT,
    test INTEGER NOT NULL DEFAULT 0                 -- a ctxd_test_ key (a label only)
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id, created_at);

CREATE TABLE workspaces (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    label TEXT NOT NULL,
    root TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE request_log (
    ts INTEGER NOT NULL,
    tenant_id TEXT NOT NULL,
    token_id TEXT,
    tool TEXT,
    duration_ms INTEGER NOT NULL,
    status INTEGER NOT NULL,
    error_message TEXT                              -- the error_code, never tool output
);
CREATE INDEX request_log_tenant_ts ON request_log(tenant_id, ts);
CREATE INDEX request_log_ts ON request_log(ts);

-- the tenant of team.json's tokens and workspaces, and of a single-tenant data dir
INSERT INTO tenants (id, name, created_at)
VALUES ('local', 'local', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
