-- 0006_artifacts.sql: ctx_artifacts' registry of non-code context documents and its BM25 index
-- (issue 6, ARTIFACTS; tools.md §4.6), plus the proofs ctx_proof stores (tools.md §4.7).
--
-- artifacts: one row per (tenant, workspace, name). A workspace file that matches artifactGlobs
-- is registered under its workspace-relative path (stored = 0: its text is read from the
-- workspace when indexed; sha, bytes and mtime_ns say which version the chunks hold). A stored
-- artifact (stored = 1, kind 'proof') keeps its document in body. `remove` drops a stored
-- artifact and marks a file artifact removed: it leaves the search and the listings and
-- `index` does not bring it back (`reindex`, a rebuild, does). Rows carry tenant_id without a
-- foreign key (team.json tenants need not be in `tenants`); a deleted store tenant's rows go
-- through a trigger.
CREATE TABLE artifacts (
    id INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,                             -- doc, adr, openapi, sql, proto, proof, other
    stored INTEGER NOT NULL DEFAULT 0,
    sha TEXT NOT NULL,                              -- SHA-256 hex of the content
    bytes INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL DEFAULT 0,            -- files: the mtime indexed
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,                       -- team:<tokenId>, or server
    removed INTEGER NOT NULL DEFAULT 0,
    body TEXT,                                      -- stored artifacts: the document
    UNIQUE (tenant_id, workspace_id, name)
);

-- the search unit: a Markdown section (heading to the next heading) or a 50-line window of
-- other text; tokens are the code-aware tokens (index_tokenize) of the name, heading and text
CREATE TABLE artifact_chunks (
    id INTEGER PRIMARY KEY,
    artifact_id INTEGER NOT NULL,
    tenant_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    heading TEXT NOT NULL,
    text TEXT NOT NULL,
    tokens TEXT NOT NULL
);
CREATE INDEX artifact_chunks_artifact ON artifact_chunks(artifact_id);
CREATE INDEX artifact_chunks_ws ON artifact_chunks(tenant_id, workspace_id);

CREATE VIRTUAL TABLE artifact_fts USING fts5(
    tokens, content = 'artifact_chunks', content_rowid = 'id', tokenize = "unicode61 tokenchars '_'"
);
CREATE TRIGGER artifact_chunks_ai AFTER INSERT ON artifact_chunks BEGIN
    INSERT INTO artifact_fts (rowid, tokens) VALUES (new.id, new.tokens);
END;
CREATE TRIGGER artifact_chunks_ad AFTER DELETE ON artifact_chunks BEGIN
    INSERT INTO artifact_fts (artifact_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens);
END;
CREATE TRIGGER artifacts_ad AFTER DELETE ON artifacts BEGIN
    DELETE FROM artifact_chunks WHERE artifact_id = old.id;
END;

-- when the workspace's file artifacts were last brought up to date (index, reindex, or a read
-- that found the registry stale), and by whom
CREATE TABLE artifact_state (
    tenant_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    indexed_at TEXT NOT NULL,
    indexed_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, workspace_id)
);

CREATE TRIGGER artifacts_tenant_gone AFTER DELETE ON tenants BEGIN
    DELETE FROM artifacts WHERE tenant_id = old.id;
    DELETE FROM artifact_state WHERE tenant_id = old.id;
END;
