-- Ringdesk web API schema, version 1: browser sessions and API tokens.
-- Only the SHA-256 of a session cookie or token is stored (hex), so a copy
-- of the database lets nobody in. Times are unix milliseconds (UTC).

CREATE TABLE web_sessions (
	token_hash TEXT    PRIMARY KEY,
	user_id    TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

CREATE TABLE api_tokens (
	token_hash   TEXT    PRIMARY KEY,
	user_id      TEXT    NOT NULL,
	name         TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
