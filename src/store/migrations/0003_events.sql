-- 0003_events.sql: the event bus's persisted events (issue 6, EVENTS; http-conventions.md §3).
-- One sequence per tenant: (tenant_id, id) is the key and event_seq keeps each tenant's last id,
-- so that ids continue after a restart even when retention has pruned every row. refs_json is
-- what an `events` credential sees, full_json what `events` + `audit` sees (NULL: = refs_json);
-- neither ever holds file contents or tool output. ts is milliseconds since the epoch.
CREATE TABLE events (
    tenant_id TEXT NOT NULL,
    id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    workspace_id TEXT,
    channel_id TEXT NOT NULL,
    agent_id TEXT,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    refs_json TEXT,
    full_json TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_channel ON events(tenant_id, channel_id, id);
CREATE INDEX events_ts ON events(tenant_id, ts);
CREATE TABLE event_seq (
    tenant_id TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
);
-- full-text search over summaries (/v1/events/search); external content kept by triggers, so a
-- delete (retention, a deleted tenant) removes the terms too
CREATE VIRTUAL TABLE events_fts USING fts5(summary, content='events', content_rowid='rowid');
CREATE TRIGGER events_ai AFTER INSERT ON events BEGIN
    INSERT INTO events_fts(rowid, summary) VALUES (new.rowid, new.summary);
END;
CREATE TRIGGER events_ad AFTER DELETE ON events BEGIN
    INSERT INTO events_fts(events_fts, rowid, summary) VALUES ('delete', old.rowid, old.summary);
END;
-- a deleted tenant's events and sequence go with it
CREATE TRIGGER events_tenant_gone AFTER DELETE ON tenants BEGIN
    DELETE FROM events WHERE tenant_id = old.id;
    DELETE FROM event_seq WHERE tenant_id = old.id;
END;
