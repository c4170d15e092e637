-- 0005_knowledge.sql: ctx_knowledge's facts and relations with an FTS5 index (issue 6, tools.md
-- §4.5). A fact is one version of (tenant_id, workspace_id, category, key): remembering a key
-- again closes the current version (valid_until, superseded_by) and adds a new one that names
-- it (supersedes), so `as_of` reads and `timeline` see every version; at most one version per
-- key is current (valid_until IS NULL), enforced by a partial unique index. The text index is an
-- external-content FTS5 table over category, key and value kept in step by triggers (SQLite 3.40
-- has no contentless_delete); its matches are always joined back to knowledge_facts and filtered
-- by tenant_id and workspace_id. Rows carry tenant_id without a foreign key (team.json tenants
-- need not be in `tenants`); deleting a store tenant deletes its rows through a trigger.

CREATE TABLE knowledge_facts (
    id INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    category TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    source TEXT NOT NULL,                           -- team:<tokenId> of the writer
    imported_from TEXT,                             -- the source an import claimed
    confidence REAL NOT NULL,
    created_at TEXT NOT NULL,                       -- when the fact was first written
    last_confirmed TEXT NOT NULL,                   -- last written with this value
    valid_from TEXT NOT NULL,                       -- when this version became current
    valid_until TEXT,                               -- NULL: the current version
    supersedes INTEGER,                             -- the version this one replaced
    superseded_by INTEGER,                          -- the version that replaced this one
    retrieval_count INTEGER NOT NULL DEFAULT 0,
    last_retrieved TEXT,
    feedback_up INTEGER NOT NULL DEFAULT 0,
    feedback_down INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX knowledge_facts_current
    ON knowledge_facts(tenant_id, workspace_id, category, key) WHERE valid_until IS NULL;
CREATE INDEX knowledge_facts_versions
    ON knowledge_facts(tenant_id, workspace_id, category, key, id);
CREATE INDEX knowledge_facts_ws ON knowledge_facts(tenant_id, workspace_id, id);

CREATE VIRTUAL TABLE knowledge_fts USING fts5(
    category, key, value,
    content = 'knowledge_facts', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER knowledge_facts_ai AFTER INSERT ON knowledge_facts BEGIN
    INSERT INTO knowledge_fts (rowid, category, key, value)
    VALUES (new.id, new.category, new.key, new.value);
END;
CREATE TRIGGER knowledge_facts_ad AFTER DELETE ON knowledge_facts BEGIN
    INSERT INTO knowledge_fts (knowledge_fts, rowid, category, key, value)
    VALUES ('delete', old.id, old.category, old.key, old.value);
END;
CREATE TRIGGER knowledge_facts_au AFTER UPDATE OF category, key, value ON knowledge_facts BEGIN
    INSERT INTO knowledge_fts (knowledge_fts, rowid, category, key, value)
    VALUES ('delete', old.id, old.category, old.key, old.value);
    INSERT INTO knowledge_fts (rowid, category, key, value)
    VALUES (new.id, new.category, new.key, new.value);
END;

-- a directed relation between two keys of a workspace
CREATE TABLE knowledge_relations (
    tenant_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    from_key TEXT NOT NULL,
    to_key TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, workspace_id, from_key, to_key)
);
CREATE INDEX knowledge_relations_to ON knowledge_relations(tenant_id, workspace_id, to_key);

CREATE TRIGGER knowledge_tenant_gone AFTER DELETE ON tenants BEGIN
    DELETE FROM knowledge_facts WHERE tenant_id = old.id;
    DELETE FROM knowledge_relations WHERE tenant_id = old.id;
END;
