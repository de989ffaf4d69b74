-- 003_refunds: refunds of succeeded payments (snapshot), their append-only
-- history, their own outbox, and refund receipts in the print queue.
--
-- Encoding as in 001_init: times are INTEGER Unix nanoseconds, NULL is the
-- zero time; money is amount_minor + currency.
--
-- The rule "refunds that are not failed sum to at most the payment's
-- amount" is checked by AppendRefund inside the write transaction that
-- creates a refund (one writer, BEGIN IMMEDIATE), not by a trigger, so the
-- refusal carries a message a cashier can read.

CREATE TABLE refunds (
	id                TEXT    NOT NULL PRIMARY KEY CHECK (id <> ''),
	payment_id        TEXT    NOT NULL REFERENCES payments (id),
	-- Generated once, journaled before the submit; 20 characters at most
	-- fit both MMSP REFUND_MERORDERID and Allinpay outTransNo.
	out_refund_no     TEXT    NOT NULL UNIQUE CHECK (length(out_refund_no) BETWEEN 1 AND 20),
	amount_minor      INTEGER NOT NULL CHECK (amount_minor > 0),
	currency          TEXT    NOT NULL CHECK (length(currency) = 3),
	reason            TEXT    NOT NULL,
	state             TEXT    NOT NULL CHECK (state IN ('submitting', 'processing', 'unknown', 'succeeded', 'failed')),
	outcome           TEXT    NOT NULL,
	gateway_refund_id TEXT    NOT NULL,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER,
	submitted_at      INTEGER,
	queries           INTEGER NOT NULL CHECK (queries >= 0)
) STRICT;

CREATE INDEX refunds_payment ON refunds (payment_id, created_at);
CREATE INDEX refunds_created ON refunds (created_at);
-- Must match pendingRefundStates in refunds.go.
CREATE INDEX refunds_pending ON refunds (created_at)
	WHERE state IN ('submitting', 'processing', 'unknown');

CREATE TABLE refund_events (
	seq        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	refund_id  TEXT    NOT NULL REFERENCES refunds (id),
	at         INTEGER NOT NULL,
	from_state TEXT    NOT NULL CHECK (from_state IN ('', 'submitting', 'processing', 'unknown', 'succeeded', 'failed')),
	to_state   TEXT    NOT NULL CHECK (to_state IN ('submitting', 'processing', 'unknown', 'succeeded', 'failed')),
	reason     TEXT    NOT NULL,
	detail     TEXT    NOT NULL
) STRICT;

CREATE INDEX refund_events_refund ON refund_events (refund_id, seq);

CREATE TRIGGER refund_events_no_update BEFORE UPDATE ON refund_events
BEGIN
	SELECT RAISE(ABORT, 'refund events are append-only');
END;
CREATE TRIGGER refund_events_no_delete BEFORE DELETE ON refund_events
BEGIN
	SELECT RAISE(ABORT, 'refund events are append-only');
END;

-- The refund outbox is a table of its own rather than a refund_id column
-- on outbox: the payment runner reads outbox and must never be handed an
-- operation it does not own, and outbox's CHECK on kind stays as it is.
CREATE TABLE refund_outbox (
	id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	refund_id  TEXT    NOT NULL REFERENCES refunds (id),
	kind       TEXT    NOT NULL CHECK (kind IN ('query')),
	not_before INTEGER,
	created_at INTEGER
) STRICT;

CREATE INDEX refund_outbox_due ON refund_outbox (not_before, id);
CREATE INDEX refund_outbox_refund ON refund_outbox (refund_id, id);

-- print_jobs gains refund_id, and its kind CHECK the refund copies. SQLite
-- cannot alter a CHECK, so the table is rebuilt; ids are copied, so
-- AUTOINCREMENT carries on above the highest one.
CREATE TABLE print_jobs_003 (
	id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	payment_id TEXT    REFERENCES payments (id),
	-- Set for refund receipts only, which name their payment too.
	refund_id  TEXT    REFERENCES refunds (id),
	kind       TEXT    NOT NULL CHECK (
		(kind IN ('payment-customer', 'payment-merchant', 'void') AND refund_id IS NULL)
		OR (kind IN ('refund-customer', 'refund-merchant') AND refund_id IS NOT NULL)
		OR (kind GLOB 'summary-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]' AND payment_id IS NULL AND refund_id IS NULL)),
	reprint    INTEGER NOT NULL CHECK (reprint IN (0, 1)),
	created_at INTEGER NOT NULL,
	not_before INTEGER,
	attempts   INTEGER NOT NULL CHECK (attempts >= 0),
	last_error TEXT    NOT NULL,
	printed_at INTEGER,
	CHECK (payment_id IS NOT NULL OR kind GLOB 'summary-*')
) STRICT;

INSERT INTO print_jobs_003 (id, payment_id, refund_id, kind, reprint, created_at, not_before, attempts, last_error, printed_at)
	SELECT id, payment_id, NULL, kind, reprint, created_at, not_before, attempts, last_error, printed_at FROM print_jobs;
DROP TABLE print_jobs;
ALTER TABLE print_jobs_003 RENAME TO print_jobs;

CREATE INDEX print_jobs_pending ON print_jobs (id) WHERE printed_at IS NULL;
CREATE INDEX print_jobs_payment ON print_jobs (payment_id, id);
CREATE INDEX print_jobs_refund ON print_jobs (refund_id, id) WHERE refund_id IS NOT NULL;
