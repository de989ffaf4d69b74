-- 001_init: payments (current snapshot), events (append-only history) and
-- outbox (gateway operations still owed).
--
-- Encoding, shared by every table:
--   * times are INTEGER Unix nanoseconds (UTC instant); NULL is the zero
--     time.Time. Integers sort and compare correctly, which DueOps and the
--     orderings rely on; RFC3339Nano text does not (it trims zeros).
--   * money is amount_minor INTEGER (minor units) + currency TEXT (ISO 4217).
--   * booleans are INTEGER 0/1.
-- Tables are STRICT so a wrongly typed value is refused rather than coerced.

CREATE TABLE payments (
	id               TEXT    NOT NULL PRIMARY KEY CHECK (id <> ''),
	out_trade_no     TEXT    NOT NULL,
	gateway          TEXT    NOT NULL,
	method           TEXT    NOT NULL CHECK (method IN ('micropay', 'qr')),
	amount_minor     INTEGER NOT NULL CHECK (amount_minor > 0),
	currency         TEXT    NOT NULL CHECK (length(currency) = 3),
	wallet           TEXT    NOT NULL,
	-- Never a full payment code: a non-empty masked code contains '*'.
	code_masked      TEXT    NOT NULL CHECK (code_masked = '' OR instr(code_masked, '*') > 0),
	code_hash        TEXT    NOT NULL,
	state            TEXT    NOT NULL CHECK (state IN ('awaiting_code', 'submitting', 'user_paying', 'unknown', 'reversing', 'succeeded', 'failed', 'reversed')),
	reason           TEXT    NOT NULL,
	transaction_id   TEXT    NOT NULL,
	code_url         TEXT    NOT NULL,
	cancel_requested INTEGER NOT NULL CHECK (cancel_requested IN (0, 1)),
	created_at       INTEGER,
	updated_at       INTEGER,
	submitted_at     INTEGER,
	deadline         INTEGER,
	polls            INTEGER NOT NULL CHECK (polls >= 0),
	description      TEXT    NOT NULL
) STRICT;

-- One payment per gateway order number. A payment still awaiting its code
-- may not have one yet, hence the partial index.
CREATE UNIQUE INDEX payments_out_trade_no ON payments (out_trade_no) WHERE out_trade_no <> '';
CREATE INDEX payments_created ON payments (created_at);
-- Pending: the list must match pendingStates in journal.go for the planner
-- to use this index.
CREATE INDEX payments_pending ON payments (created_at)
	WHERE state IN ('awaiting_code', 'submitting', 'user_paying', 'unknown', 'reversing');

CREATE TABLE events (
	seq        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	payment_id TEXT    NOT NULL REFERENCES payments (id),
	at         INTEGER NOT NULL,
	from_state TEXT    NOT NULL CHECK (from_state IN ('', 'awaiting_code', 'submitting', 'user_paying', 'unknown', 'reversing', 'succeeded', 'failed', 'reversed')),
	to_state   TEXT    NOT NULL CHECK (to_state IN ('awaiting_code', 'submitting', 'user_paying', 'unknown', 'reversing', 'succeeded', 'failed', 'reversed')),
	reason     TEXT    NOT NULL,
	detail     TEXT    NOT NULL
) STRICT;

CREATE INDEX events_payment ON events (payment_id, seq);

-- The history is evidence: it is only ever appended to.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;

-- AUTOINCREMENT so an id is never reused: a stale Done for a completed
-- operation can never delete a newer one.
CREATE TABLE outbox (
	id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	payment_id TEXT    NOT NULL REFERENCES payments (id),
	kind       TEXT    NOT NULL CHECK (kind IN ('query', 'reverse', 'close')),
	not_before INTEGER,
	attempts   INTEGER NOT NULL CHECK (attempts >= 0),
	last_error TEXT    NOT NULL,
	created_at INTEGER
) STRICT;

CREATE INDEX outbox_due ON outbox (not_before, id);
CREATE INDEX outbox_payment ON outbox (payment_id, id);
