-- 0007_storage.sql: a tenant's storage quota covers what its callers store in ctxd.db as well as
-- its index files (issue 6, QUOTA; DESIGN §8, §11.5). index_bytes is the size of the tenant's
-- index databases (measured by the index after each build, store_tenant_storage_set);
-- collab_bytes is what its sessions, snapshots, handoffs, shares, workflows, knowledge and
-- artifacts take: each row is charged the bytes of its text columns plus 64 for the row and its
-- index entries. Triggers keep collab_bytes and storage_used_bytes (= index_bytes +
-- collab_bytes) exact in the transaction of every write, so a write that passes the quota is
-- rolled back with it. Rows of a tenant without a `tenants` row (a team.json tenant: no quota)
-- update nothing. Events and the request log are server-written logs bounded by retention, and
-- are not charged.
ALTER TABLE tenants ADD COLUMN index_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN collab_bytes INTEGER NOT NULL DEFAULT 0;

UPDATE tenants SET index_bytes = storage_used_bytes;
UPDATE tenants SET collab_bytes =
    (SELECT coalesce(sum(64 + length(CAST(channel_id AS BLOB)) + length(CAST(body AS BLOB))), 0)
     FROM collab_docs d WHERE d.tenant_id = tenants.id) +
    (SELECT coalesce(sum(64 + length(CAST(body AS BLOB))), 0)
     FROM collab_items i WHERE i.tenant_id = tenants.id) +
    (SELECT coalesce(sum(64 + length(CAST(category AS BLOB)) + length(CAST(key AS BLOB)) +
                         length(CAST(value AS BLOB))), 0)
     FROM knowledge_facts f WHERE f.tenant_id = tenants.id) +
    (SELECT coalesce(sum(64 + length(CAST(from_key AS BLOB)) + length(CAST(to_key AS BLOB))), 0)
     FROM knowledge_relations r WHERE r.tenant_id = tenants.id) +
    (SELECT coalesce(sum(64 + length(CAST(name AS BLOB)) + coalesce(length(CAST(body AS BLOB)), 0)), 0)
     FROM artifacts a WHERE a.tenant_id = tenants.id) +
    (SELECT coalesce(sum(64 + length(CAST(heading AS BLOB)) + length(CAST(text AS BLOB)) +
                         length(CAST(tokens AS BLOB))), 0)
     FROM artifact_chunks c WHERE c.tenant_id = tenants.id);
UPDATE tenants SET storage_used_bytes = index_bytes + collab_bytes;

-- collab_docs: upserted (insert or update), deleted with their tenant
CREATE TRIGGER collab_docs_bytes_ai AFTER INSERT ON collab_docs BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes + 64 + length(CAST(new.channel_id AS BLOB)) +
                       length(CAST(new.body AS BLOB)),
        storage_used_bytes = storage_used_bytes + 64 + length(CAST(new.channel_id AS BLOB)) +
                             length(CAST(new.body AS BLOB))
    WHERE id = new.tenant_id;
END;
CREATE TRIGGER collab_docs_bytes_au AFTER UPDATE OF body ON collab_docs BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes + length(CAST(new.body AS BLOB)) -
                       length(CAST(old.body AS BLOB)),
        storage_used_bytes = storage_used_bytes + length(CAST(new.body AS BLOB)) -
                             length(CAST(old.body AS BLOB))
    WHERE id = new.tenant_id;
END;
CREATE TRIGGER collab_docs_bytes_ad AFTER DELETE ON collab_docs BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes - 64 - length(CAST(old.channel_id AS BLOB)) -
                       length(CAST(old.body AS BLOB)),
        storage_used_bytes = storage_used_bytes - 64 - length(CAST(old.channel_id AS BLOB)) -
                             length(CAST(old.body AS BLOB))
    WHERE id = old.tenant_id;
END;

-- collab_items: immutable
CREATE TRIGGER collab_items_bytes_ai AFTER INSERT ON collab_items BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes + 64 + length(CAST(new.body AS BLOB)),
        storage_used_bytes = storage_used_bytes + 64 + length(CAST(new.body AS BLOB))
    WHERE id = new.tenant_id;
END;
CREATE TRIGGER collab_items_bytes_ad AFTER DELETE ON collab_items BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes - 64 - length(CAST(old.body AS BLOB)),
        storage_used_bytes = storage_used_bytes - 64 - length(CAST(old.body AS BLOB))
    WHERE id = old.tenant_id;
END;

-- knowledge_facts: versions are added and updated in place (confirmations, counters)
CREATE TRIGGER knowledge_facts_bytes_ai AFTER INSERT ON knowledge_facts BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes + 64 + length(CAST(new.category AS BLOB)) +
                       length(CAST(new.key AS BLOB)) + length(CAST(new.value AS BLOB)),
        storage_used_bytes = storage_used_bytes + 64 + length(CAST(new.category AS BLOB)) +
                             length(CAST(new.key AS BLOB)) + length(CAST(new.value AS BLOB))
    WHERE id = new.tenant_id;
END;
CREATE TRIGGER knowledge_facts_bytes_au AFTER UPDATE OF category, key, value ON knowledge_facts
BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes + length(CAST(new.category AS BLOB)) +
                       length(CAST(new.key AS BLOB)) + length(CAST(new.value AS BLOB)) -
                       length(CAST(old.category AS BLOB)) - length(CAST(old.key AS BLOB)) -
                       length(CAST(old.value AS BLOB)),
        storage_used_bytes = storage_used_bytes + length(CAST(new.category AS BLOB)) +
                             length(CAST(new.key AS BLOB)) + length(CAST(new.value AS BLOB)) -
                             length(CAST(old.category AS BLOB)) - length(CAST(old.key AS BLOB)) -
                             length(CAST(old.value AS BLOB))
    WHERE id = new.tenant_id;
END;
CREATE TRIGGER knowledge_facts_bytes_ad AFTER DELETE ON knowledge_facts BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes - 64 - length(CAST(old.category AS BLOB)) -
                       length(CAST(old.key AS BLOB)) - length(CAST(old.value AS BLOB)),
        storage_used_bytes = storage_used_bytes - 64 - length(CAST(old.category AS BLOB)) -
                             length(CAST(old.key AS BLOB)) - length(CAST(old.value AS BLOB))
    WHERE id = old.tenant_id;
END;

CREATE TRIGGER knowledge_relations_bytes_ai AFTER INSERT ON knowledge_relations BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes + 64 + length(CAST(new.from_key AS BLOB)) +
                       length(CAST(new.to_key AS BLOB)),
        storage_used_bytes = storage_used_bytes + 64 + length(CAST(new.from_key AS BLOB)) +
                             length(CAST(new.to_key AS BLOB))
    WHERE id = new.tenant_id;
END;
CREATE TRIGGER knowledge_relations_bytes_ad AFTER DELETE ON knowledge_relations BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes - 64 - length(CAST(old.from_key AS BLOB)) -
                       length(CAST(old.to_key AS BLOB)),
        storage_used_bytes = storage_used_bytes - 64 - length(CAST(old.from_key AS BLOB)) -
                             length(CAST(old.to_key AS BLOB))
    WHERE id = old.tenant_id;
END;

-- artifacts: upserted (a new version), removed; their chunks are replaced with each version
CREATE TRIGGER artifacts_bytes_ai AFTER INSERT ON artifacts BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes + 64 + length(CAST(new.name AS BLOB)) +
                       coalesce(length(CAST(new.body AS BLOB)), 0),
        storage_used_bytes = storage_used_bytes + 64 + length(CAST(new.name AS BLOB)) +
                             coalesce(length(CAST(new.body AS BLOB)), 0)
    WHERE id = new.tenant_id;
END;
CREATE TRIGGER artifacts_bytes_au AFTER UPDATE OF body ON artifacts BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes + coalesce(length(CAST(new.body AS BLOB)), 0) -
                       coalesce(length(CAST(old.body AS BLOB)), 0),
        storage_used_bytes = storage_used_bytes + coalesce(length(CAST(new.body AS BLOB)), 0) -
                             coalesce(length(CAST(old.body AS BLOB)), 0)
    WHERE id = new.tenant_id;
END;
CREATE TRIGGER artifacts_bytes_ad AFTER DELETE ON artifacts BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes - 64 - length(CAST(old.name AS BLOB)) -
                       coalesce(length(CAST(old.body AS BLOB)), 0),
        storage_used_bytes = storage_used_bytes - 64 - length(CAST(old.name AS BLOB)) -
                             coalesce(length(CAST(old.body AS BLOB)), 0)
    WHERE id = old.tenant_id;
END;
CREATE TRIGGER artifact_chunks_bytes_ai AFTER INSERT ON artifact_chunks BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes + 64 + length(CAST(new.heading AS BLOB)) +
                       length(CAST(new.text AS BLOB)) + length(CAST(new.tokens AS BLOB)),
        storage_used_bytes = storage_used_bytes + 64 + length(CAST(new.heading AS BLOB)) +
                             length(CAST(new.text AS BLOB)) + length(CAST(new.tokens AS BLOB))
    WHERE id = new.tenant_id;
END;
CREATE TRIGGER artifact_chunks_bytes_ad AFTER DELETE ON artifact_chunks BEGIN
    UPDATE tenants SET
        collab_bytes = collab_bytes - 64 - length(CAST(old.heading AS BLOB)) -
                       length(CAST(old.text AS BLOB)) - length(CAST(old.tokens AS BLOB)),
        storage_used_bytes = storage_used_bytes - 64 - length(CAST(old.heading AS BLOB)) -
                             length(CAST(old.text AS BLOB)) - length(CAST(old.tokens AS BLOB))
    WHERE id = old.tenant_id;
END;
