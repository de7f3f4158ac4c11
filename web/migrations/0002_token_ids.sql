-- Ringdesk web API schema, version 2: API tokens get an id, so they can be
-- listed and revoked without showing the token or its hash. AUTOINCREMENT
-- keeps a revoked token's id from being given to a later one. The table is
-- rebuilt (SQLite cannot add a primary key); existing tokens keep working
-- and are numbered in the order they were created.

CREATE TABLE api_tokens_v2 (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	token_hash   TEXT    NOT NULL UNIQUE,
	user_id      TEXT    NOT NULL,
	name         TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER
);
INSERT INTO api_tokens_v2 (token_hash, user_id, name, created_at, last_used_at)
	SELECT token_hash, user_id, name, created_at, last_used_at FROM api_tokens ORDER BY created_at, rowid;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_v2 RENAME TO api_tokens;
CREATE INDEX api_tokens_user ON api_tokens (user_id);
