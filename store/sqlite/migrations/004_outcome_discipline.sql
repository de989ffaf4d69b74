-- posagent:foreign_keys_off
-- 004_outcome_discipline: what the flows need to check every answer
-- against the journal and to time rules from the gateway's answer.
--
-- The line above makes migrate run this file with foreign keys off (they
-- cannot be switched inside a transaction) and run foreign_key_check before
-- it commits: refunds and refund_events are rebuilt to widen their state
-- CHECKs, and rows of other tables reference refunds.
--
-- payments: answered_at (the submit's answer; reverse-after and
-- close-after are timed from it), last_query_at (the minimum interval
-- between queries holds across restarts), charged_late (a verified "paid"
-- for a payment already ended failed or reversed), alert (the operator
-- must act).
ALTER TABLE payments ADD COLUMN answered_at INTEGER;
ALTER TABLE payments ADD COLUMN last_query_at INTEGER;
ALTER TABLE payments ADD COLUMN charged_late INTEGER NOT NULL DEFAULT 0 CHECK (charged_late IN (0, 1));
ALTER TABLE payments ADD COLUMN alert TEXT NOT NULL DEFAULT '';

-- events: a flag marks an event that records a mismatch, an alert or a
-- late charge, so they can be counted.
ALTER TABLE events ADD COLUMN flag TEXT NOT NULL DEFAULT '' CHECK (flag IN ('', 'mismatch', 'alert', 'charged_late'));
CREATE INDEX events_flag ON events (flag) WHERE flag <> '';

-- refunds gain the state 'attention' (final; the amount stays held), an
-- alert, and the count of resends the gateway asked for.
CREATE TABLE refunds_004 (
	id                TEXT    NOT NULL PRIMARY KEY CHECK (id <> ''),
	payment_id        TEXT    NOT NULL REFERENCES payments (id),
	out_refund_no     TEXT    NOT NULL UNIQUE CHECK (length(out_refund_no) BETWEEN 1 AND 20),
	amount_minor      INTEGER NOT NULL CHECK (amount_minor > 0),
	currency          TEXT    NOT NULL CHECK (length(currency) = 3),
	reason            TEXT    NOT NULL,
	state             TEXT    NOT NULL CHECK (state IN ('submitting', 'processing', 'unknown', 'succeeded', 'failed', 'attention')),
	outcome           TEXT    NOT NULL,
	gateway_refund_id TEXT    NOT NULL,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER,
	submitted_at      INTEGER,
	queries           INTEGER NOT NULL CHECK (queries >= 0),
	alert             TEXT    NOT NULL DEFAULT '',
	resends           INTEGER NOT NULL DEFAULT 0 CHECK (resends >= 0)
) STRICT;
INSERT INTO refunds_004 (id, payment_id, out_refund_no, amount_minor, currency, reason, state, outcome,
		gateway_refund_id, created_at, updated_at, submitted_at, queries)
	SELECT id, payment_id, out_refund_no, amount_minor, currency, reason, state, outcome,
		gateway_refund_id, created_at, updated_at, submitted_at, queries FROM refunds;
DROP TABLE refunds;
ALTER TABLE refunds_004 RENAME TO refunds;
CREATE INDEX refunds_payment ON refunds (payment_id, created_at);
CREATE INDEX refunds_created ON refunds (created_at);
-- Must match pendingRefundStates in refunds.go.
CREATE INDEX refunds_pending ON refunds (created_at)
	WHERE state IN ('submitting', 'processing', 'unknown');

CREATE TABLE refund_events_004 (
	seq        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	refund_id  TEXT    NOT NULL REFERENCES refunds (id),
	at         INTEGER NOT NULL,
	from_state TEXT    NOT NULL CHECK (from_state IN ('', 'submitting', 'processing', 'unknown', 'succeeded', 'failed', 'attention')),
	to_state   TEXT    NOT NULL CHECK (to_state IN ('submitting', 'processing', 'unknown', 'succeeded', 'failed', 'attention')),
	reason     TEXT    NOT NULL,
	detail     TEXT    NOT NULL,
	flag       TEXT    NOT NULL DEFAULT '' CHECK (flag IN ('', 'mismatch', 'alert', 'charged_late'))
) STRICT;
INSERT INTO refund_events_004 (seq, refund_id, at, from_state, to_state, reason, detail)
	SELECT seq, refund_id, at, from_state, to_state, reason, detail FROM refund_events;
DROP TABLE refund_events;
ALTER TABLE refund_events_004 RENAME TO refund_events;
CREATE INDEX refund_events_refund ON refund_events (refund_id, seq);
CREATE INDEX refund_events_flag ON refund_events (flag) WHERE flag <> '';
CREATE TRIGGER refund_events_no_update BEFORE UPDATE ON refund_events
BEGIN
	SELECT RAISE(ABORT, 'refund events are append-only');
END;
CREATE TRIGGER refund_events_no_delete BEFORE DELETE ON refund_events
BEGIN
	SELECT RAISE(ABORT, 'refund events are append-only');
END;
