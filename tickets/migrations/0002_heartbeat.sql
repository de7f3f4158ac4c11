-- heartbeat is when the running process last said it was alive, so that
-- calls a kill interrupted end then, not at their last event.
CREATE TABLE heartbeat (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	at INTEGER NOT NULL
);
