-- 0004_sessions.sql: shared sessions, snapshots, handoffs, shares and workflows (issue 6,
-- SESSIONS; tools.md §4.1-4.4). Every row carries tenant_id and goes with its tenant.
--
-- collab_docs: the one mutable document per (tenant, workspace, channel, kind): kind 'session'
-- (task, findings, decisions, files, agents) or 'workflow' (name, spec, state, evidence). rev
-- counts the committed writes; a write names the rev it read and is refused when another one
-- committed meanwhile (compare-and-set in one transaction), so no update is ever lost.
CREATE TABLE collab_docs (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('session', 'workflow')),
    rev INTEGER NOT NULL,
    body TEXT NOT NULL,                             -- a JSON object
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,                       -- team:<tokenId>
    PRIMARY KEY (tenant_id, workspace_id, kind, channel_id)
);

-- collab_items: immutable records: 'snapshot' (a saved session), 'handoff' (channel ''), 'share'.
-- seq orders them (newest first) and is never reused.
CREATE TABLE collab_items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('snapshot', 'handoff', 'share')),
    id TEXT NOT NULL,
    from_agent TEXT NOT NULL,
    to_agent TEXT NOT NULL DEFAULT '',              -- '' = anyone
    created_at TEXT NOT NULL,
    body TEXT NOT NULL,                             -- a JSON object
    UNIQUE (tenant_id, workspace_id, kind, id)
);
CREATE INDEX collab_items_list ON collab_items(tenant_id, workspace_id, kind, channel_id, seq);
