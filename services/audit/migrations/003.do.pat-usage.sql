-- Usage per PAT key (SummarizeUsage): one key's completed Messages API requests, and its
-- denied ones, over a window of time, read by an index range scan on (org, key, time).
--
-- The key is a stored generated column, not an expression index on actor->>'patKeyId':
-- under row-level security PostgreSQL evaluates a caller's condition that uses a function
-- not marked leakproof (jsonb ->> is not) only after the tenant policy, so such a condition
-- is never an index condition and one key's usage would cost a read of every key's rows of
-- the org in the window. Equality on a text column is leakproof, so the key bounds the scan.
--
-- Neither the chain nor the append-only rule is touched: the column is derived from actor,
-- which is hashed, and cannot be written on its own (PostgreSQL refuses to set a generated
-- column); it is not part of a row's canonical text, so hashes and verification are as
-- before. Adding it rewrites the table once, under an exclusive lock, which fires no trigger
-- (a rewrite is not an UPDATE); ingestion waits meanwhile, its events held by the stream.
ALTER TABLE events ADD COLUMN pat_key_id text GENERATED ALWAYS AS (actor ->> 'patKeyId') STORED;

-- Exactly the rows each sum reads: partial, so MCP traffic, allowed decisions and other
-- actions add nothing to them.
CREATE INDEX events_pat_usage ON events (org_id, pat_key_id, occurred_at)
  WHERE kind = 'outcome' AND action = 'pat:messages.create';
CREATE INDEX events_pat_denies ON events (org_id, pat_key_id, occurred_at)
  WHERE kind = 'decision' AND decision = 'deny' AND action = 'pat:messages.create';
