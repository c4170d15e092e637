-- 0002_request_log_429.sql: partial indexes for the rate-limit hits of the stats (issue 5).
-- GET /admin/stats counts the last 24 h of request_log: all rows through request_log_ts (or
-- request_log_tenant_ts for one tenant), and the rows with status 429 through these two, which
-- hold only the 429 rows: counting the hits reads as many index entries as there are hits, not
-- every request of the day, and costs nothing on the insert of a row that is not a 429. The
-- queries must say `status = 429` literally for SQLite to use a partial index.
CREATE INDEX request_log_429_ts ON request_log(ts) WHERE status = 429;
CREATE INDEX request_log_429_tenant_ts ON request_log(tenant_id, ts) WHERE status = 429;
