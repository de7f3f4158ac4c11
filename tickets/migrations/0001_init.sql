-- Ringdesk helpdesk schema, version 1. Times are unix milliseconds (UTC);
-- durations are milliseconds. Agents are named by their configured id.

CREATE TABLE contacts (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL DEFAULT '',
	company    TEXT    NOT NULL DEFAULT '',
	address    TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE contact_emails (
	contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	email      TEXT    NOT NULL,
	PRIMARY KEY (contact_id, email)
);

CREATE TABLE contact_phones (
	contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	number     TEXT    NOT NULL, -- E.164
	label      TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (contact_id, number)
);
CREATE INDEX contact_phones_number ON contact_phones (number);

-- contact_words indexes every word of a contact's name, company, address
-- and emails (lower case), and every run of 3 or more trailing digits of
-- its numbers, for the dialer's search by any part (A72).
CREATE TABLE contact_words (
	word       TEXT    NOT NULL,
	contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	PRIMARY KEY (word, contact_id)
) WITHOUT ROWID;
CREATE INDEX contact_words_contact ON contact_words (contact_id);

CREATE TABLE tickets (
	id            INTEGER PRIMARY KEY,
	subject       TEXT    NOT NULL,
	status        TEXT    NOT NULL CHECK (status IN ('new', 'open', 'pending', 'on-hold', 'solved', 'closed')),
	department    TEXT    NOT NULL DEFAULT '',
	assignee      TEXT    NOT NULL DEFAULT '',
	contact_id    INTEGER REFERENCES contacts (id),
	channel       TEXT    NOT NULL DEFAULT 'phone' CHECK (channel IN ('phone', 'sms', 'web', 'email')),
	by_call       INTEGER NOT NULL DEFAULT 0,
	menu_path     TEXT    NOT NULL DEFAULT '',
	merged_into   INTEGER REFERENCES tickets (id),
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	-- the call fields (A171-A175), from the ticket's last call
	session_type  TEXT    NOT NULL DEFAULT '',
	from_number   TEXT    NOT NULL DEFAULT '',
	call_id       TEXT    NOT NULL DEFAULT '',
	call_ms       INTEGER NOT NULL DEFAULT 0,
	wait_ms       INTEGER NOT NULL DEFAULT 0,
	hold_ms       INTEGER NOT NULL DEFAULT 0,
	queue         TEXT    NOT NULL DEFAULT '',
	csat          INTEGER
);
CREATE INDEX tickets_contact ON tickets (contact_id, status);
CREATE INDEX tickets_assignee ON tickets (assignee, status);
CREATE INDEX tickets_department ON tickets (department, status);
CREATE INDEX tickets_updated ON tickets (updated_at);

-- files are recordings and voicemail messages; the audio stays on disk.
CREATE TABLE files (
	id          INTEGER PRIMARY KEY,
	kind        TEXT    NOT NULL CHECK (kind IN ('recording', 'voicemail')),
	call_id     TEXT    NOT NULL,
	ticket_id   INTEGER REFERENCES tickets (id),
	path        TEXT    NOT NULL,
	duration_ms INTEGER NOT NULL DEFAULT 0,
	size        INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	deleted_at  INTEGER
);
CREATE INDEX files_call ON files (call_id);
CREATE INDEX files_ticket ON files (ticket_id);

-- timeline is each ticket's history, oldest first.
CREATE TABLE timeline (
	id        INTEGER PRIMARY KEY,
	ticket_id INTEGER NOT NULL REFERENCES tickets (id),
	kind      TEXT    NOT NULL,
	public    INTEGER NOT NULL DEFAULT 0,
	author    TEXT    NOT NULL DEFAULT '',
	body      TEXT    NOT NULL DEFAULT '',
	call_id   TEXT    NOT NULL DEFAULT '',
	file_id   INTEGER REFERENCES files (id),
	at        INTEGER NOT NULL
);
CREATE INDEX timeline_ticket ON timeline (ticket_id, id);
CREATE INDEX timeline_call ON timeline (call_id);

-- ticket_text is the full-text index of subjects and comments (FTS4: the
-- driver's default build has it).
CREATE VIRTUAL TABLE ticket_text USING fts4 (body, ticket_id, notindexed=ticket_id);

-- calls holds one record per call, whether or not it touched a ticket.
CREATE TABLE calls (
	id            TEXT    PRIMARY KEY,
	direction     TEXT    NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
	from_number   TEXT    NOT NULL DEFAULT '',
	to_number     TEXT    NOT NULL DEFAULT '',
	caller_name   TEXT    NOT NULL DEFAULT '',
	agent         TEXT    NOT NULL DEFAULT '', -- who answered, or who called out
	contact_id    INTEGER REFERENCES contacts (id),
	contact_picked INTEGER NOT NULL DEFAULT 0, -- an agent chose the contact
	ticket_id     INTEGER REFERENCES tickets (id),
	ticket_choice TEXT    NOT NULL DEFAULT '', -- outbound: 'ticket', 'new' or 'none'
	number        TEXT    NOT NULL DEFAULT '', -- the dialplan number
	department    TEXT    NOT NULL DEFAULT '',
	menu_path     TEXT    NOT NULL DEFAULT '',
	queue         TEXT    NOT NULL DEFAULT '',
	wait_ms       INTEGER NOT NULL DEFAULT 0,
	hold_ms       INTEGER NOT NULL DEFAULT 0,
	ring_ms       INTEGER NOT NULL DEFAULT 0,
	talk_ms       INTEGER NOT NULL DEFAULT 0,
	started_at    INTEGER NOT NULL,
	answered_at   INTEGER,
	ended_at      INTEGER,
	cause         TEXT    NOT NULL DEFAULT '',
	status        INTEGER NOT NULL DEFAULT 0,
	hung_up_by    TEXT    NOT NULL DEFAULT '',
	abandoned     INTEGER NOT NULL DEFAULT 0,
	voicemail     INTEGER NOT NULL DEFAULT 0,
	last_seq      INTEGER NOT NULL DEFAULT 0,
	last_at       INTEGER NOT NULL
);
CREATE INDEX calls_started ON calls (started_at);
CREATE INDEX calls_open ON calls (ended_at) WHERE ended_at IS NULL;
CREATE INDEX calls_contact ON calls (contact_id, started_at);
CREATE INDEX calls_ticket ON calls (ticket_id);

-- call_legs: every phone rung and every party connected.
CREATE TABLE call_legs (
	call_id     TEXT    NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	leg_id      TEXT    NOT NULL,
	direction   TEXT    NOT NULL DEFAULT '',
	agent       TEXT    NOT NULL DEFAULT '',
	extension   TEXT    NOT NULL DEFAULT '',
	number      TEXT    NOT NULL DEFAULT '',
	sip_call_id TEXT    NOT NULL DEFAULT '',
	started_at  INTEGER NOT NULL,
	ringing_at  INTEGER,
	answered_at INTEGER,
	ended_at    INTEGER,
	status      INTEGER NOT NULL DEFAULT 0,
	cause       TEXT    NOT NULL DEFAULT '',
	rang_out    INTEGER NOT NULL DEFAULT 0,
	held_ms     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (call_id, leg_id)
);

-- call_events: every event applied, by its sequence number within the call;
-- a replayed event finds its row and changes nothing.
CREATE TABLE call_events (
	call_id TEXT    NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	seq     INTEGER NOT NULL,
	kind    TEXT    NOT NULL,
	at      INTEGER NOT NULL,
	detail  TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (call_id, seq)
);

CREATE TABLE call_summaries (
	call_id    TEXT    NOT NULL REFERENCES calls (id),
	agent      TEXT    NOT NULL,
	outcome    TEXT    NOT NULL DEFAULT '',
	notes      TEXT    NOT NULL DEFAULT '',
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (call_id, agent)
);

CREATE TABLE tasks (
	id         INTEGER PRIMARY KEY,
	title      TEXT    NOT NULL,
	agent      TEXT    NOT NULL DEFAULT '',
	call_id    TEXT    NOT NULL DEFAULT '',
	ticket_id  INTEGER REFERENCES tickets (id),
	due_at     INTEGER,
	done       INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX tasks_agent ON tasks (agent, done, due_at);

-- outbox holds the webhook deliveries still owed, written in the same
-- transaction as the change they report.
CREATE TABLE outbox (
	-- AUTOINCREMENT: a delivery id is never reused, since receivers
	-- de-duplicate on it
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	url        TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	payload    TEXT    NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_at    INTEGER NOT NULL,
	last_error TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
CREATE INDEX outbox_next ON outbox (next_at);
