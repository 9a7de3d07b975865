-- Initial schema. Each record is kept whole as JSON in `data` (times as Unix nanoseconds);
-- the other columns are copies of the fields that queries filter or order by.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- Named counters, e.g. the installation-wide calculation sequence.
CREATE TABLE sequences (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);
INSERT INTO sequences (name, value) VALUES ('calculation', 0);

CREATE TABLE workgroups (
	name TEXT PRIMARY KEY,
	data TEXT NOT NULL
);

-- payload is apart from data so that listing metadata does not read notebook documents.
CREATE TABLE notebooks (
	id        TEXT PRIMARY KEY,
	workgroup TEXT NOT NULL,
	name      TEXT NOT NULL,
	data      TEXT NOT NULL,
	payload   TEXT NOT NULL DEFAULT '',
	UNIQUE (workgroup, name)
);

CREATE TABLE sessions (
	id            TEXT PRIMARY KEY,
	workgroup     TEXT NOT NULL,
	notebook_id   TEXT NOT NULL DEFAULT '',
	state         TEXT NOT NULL,
	start_time_ns INTEGER NOT NULL,
	data          TEXT NOT NULL
);
CREATE INDEX sessions_by_start ON sessions (start_time_ns DESC, id DESC);
CREATE INDEX sessions_by_workgroup ON sessions (workgroup, start_time_ns DESC, id DESC);
CREATE INDEX sessions_by_notebook ON sessions (notebook_id, start_time_ns DESC, id DESC);

CREATE TABLE calculations (
	id         TEXT PRIMARY KEY,
	session_id TEXT NOT NULL,
	seq        INTEGER NOT NULL UNIQUE,
	state      TEXT NOT NULL,
	data       TEXT NOT NULL
);
CREATE INDEX calculations_by_session ON calculations (session_id, seq DESC);

CREATE TABLE tags (
	arn   TEXT NOT NULL,
	key   TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (arn, key)
) WITHOUT ROWID;

CREATE TABLE idempotency (
	op    TEXT NOT NULL,
	token TEXT NOT NULL,
	data  TEXT NOT NULL,
	PRIMARY KEY (op, token)
) WITHOUT ROWID;
