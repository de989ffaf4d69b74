-- 009_retention: the journal's retention policy (journal.retention).
--
-- Payments that are final, with every refund final and nothing owed to a
-- gateway or the printer, and unchanged for longer than the retention
-- window, are compacted: what they contributed to their days' summaries is
-- added to day_totals, then they are deleted with their refunds, events,
-- receipts and idempotency keys, all in one transaction (Prune).
--
-- History stays trustworthy:
--   * events and refund_events stay append-only for everything else: the
--     triggers below allow a DELETE only while a pruning row is present
--     (inserted and removed by Prune inside its own transaction) and only
--     of a final record older than that row's watermark;
--   * payments and refunds get the same guard (they had none);
--   * day_totals only ever grows (no DELETE; an UPDATE may only add);
--   * prunes records every prune (when, the watermark, the zone, how many
--     rows) and is itself append-only, so a missing history says when and
--     why it went.
--
-- Encoding as in 001_init: times are INTEGER Unix nanoseconds.

CREATE TABLE day_totals (
	day            TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
	wallet         TEXT    NOT NULL,
	currency       TEXT    NOT NULL CHECK (length(currency) = 3),
	-- The till's zone when the rows were rolled up (the day is its date).
	zone           TEXT    NOT NULL,
	payments       INTEGER NOT NULL CHECK (payments >= 0),
	paid_minor     INTEGER NOT NULL CHECK (paid_minor >= 0),
	refunds        INTEGER NOT NULL CHECK (refunds >= 0),
	refunded_minor INTEGER NOT NULL CHECK (refunded_minor >= 0),
	failed         INTEGER NOT NULL CHECK (failed >= 0),
	reversed       INTEGER NOT NULL CHECK (reversed >= 0),
	PRIMARY KEY (day, wallet, currency)
) STRICT;

CREATE TRIGGER day_totals_no_delete BEFORE DELETE ON day_totals
BEGIN
	SELECT RAISE(ABORT, 'day totals are kept for good');
END;
CREATE TRIGGER day_totals_only_add BEFORE UPDATE ON day_totals
	WHEN NEW.day <> OLD.day OR NEW.wallet <> OLD.wallet OR NEW.currency <> OLD.currency
		OR NEW.payments < OLD.payments OR NEW.paid_minor < OLD.paid_minor
		OR NEW.refunds < OLD.refunds OR NEW.refunded_minor < OLD.refunded_minor
		OR NEW.failed < OLD.failed OR NEW.reversed < OLD.reversed
BEGIN
	SELECT RAISE(ABORT, 'day totals may only be added to');
END;

-- What pruned rows counted in the metrics (payments by gateway, wallet,
-- method and state; refunds by state), so counters read from the journal
-- never go down when history is pruned. Only ever added to.
CREATE TABLE pruned_payments (
	gateway TEXT    NOT NULL,
	wallet  TEXT    NOT NULL,
	method  TEXT    NOT NULL,
	state   TEXT    NOT NULL,
	n       INTEGER NOT NULL CHECK (n >= 0),
	PRIMARY KEY (gateway, wallet, method, state)
) STRICT;
CREATE TABLE pruned_refunds (
	state TEXT    NOT NULL PRIMARY KEY,
	n     INTEGER NOT NULL CHECK (n >= 0)
) STRICT;
CREATE TRIGGER pruned_payments_only_add BEFORE UPDATE ON pruned_payments WHEN NEW.n < OLD.n
BEGIN
	SELECT RAISE(ABORT, 'pruned counts may only be added to');
END;
CREATE TRIGGER pruned_payments_no_delete BEFORE DELETE ON pruned_payments
BEGIN
	SELECT RAISE(ABORT, 'pruned counts are kept for good');
END;
CREATE TRIGGER pruned_refunds_only_add BEFORE UPDATE ON pruned_refunds WHEN NEW.n < OLD.n
BEGIN
	SELECT RAISE(ABORT, 'pruned counts may only be added to');
END;
CREATE TRIGGER pruned_refunds_no_delete BEFORE DELETE ON pruned_refunds
BEGIN
	SELECT RAISE(ABORT, 'pruned counts are kept for good');
END;

CREATE TABLE prunes (
	id       INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	at       INTEGER NOT NULL,
	before   INTEGER NOT NULL,
	zone     TEXT    NOT NULL,
	payments INTEGER NOT NULL CHECK (payments >= 0),
	refunds  INTEGER NOT NULL CHECK (refunds >= 0),
	events   INTEGER NOT NULL CHECK (events >= 0)
) STRICT;

CREATE TRIGGER prunes_no_update BEFORE UPDATE ON prunes
BEGIN
	SELECT RAISE(ABORT, 'the prune log is append-only');
END;
CREATE TRIGGER prunes_no_delete BEFORE DELETE ON prunes
BEGIN
	SELECT RAISE(ABORT, 'the prune log is append-only');
END;

-- Present only inside Prune's transaction: the watermark it prunes below.
CREATE TABLE pruning (
	before INTEGER NOT NULL
) STRICT;

DROP TRIGGER events_no_delete;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
	WHEN NOT EXISTS (SELECT 1 FROM pruning WHERE OLD.at < pruning.before)
		OR (SELECT state FROM payments WHERE id = OLD.payment_id) NOT IN ('succeeded', 'failed', 'reversed')
BEGIN
	SELECT RAISE(ABORT, 'events are append-only (only pruning removes the history of final payments older than the retention window)');
END;

DROP TRIGGER refund_events_no_delete;
CREATE TRIGGER refund_events_no_delete BEFORE DELETE ON refund_events
	WHEN NOT EXISTS (SELECT 1 FROM pruning WHERE OLD.at < pruning.before)
		OR (SELECT state FROM refunds WHERE id = OLD.refund_id) NOT IN ('succeeded', 'failed')
BEGIN
	SELECT RAISE(ABORT, 'refund events are append-only (only pruning removes the history of final refunds older than the retention window)');
END;

CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments
	WHEN NOT EXISTS (SELECT 1 FROM pruning WHERE OLD.created_at < pruning.before AND coalesce(OLD.updated_at, 0) < pruning.before)
		OR OLD.state NOT IN ('succeeded', 'failed', 'reversed')
BEGIN
	SELECT RAISE(ABORT, 'payments are kept until pruned: final and older than the retention window');
END;

CREATE TRIGGER refunds_no_delete BEFORE DELETE ON refunds
	WHEN NOT EXISTS (SELECT 1 FROM pruning WHERE OLD.created_at < pruning.before AND coalesce(OLD.updated_at, 0) < pruning.before)
		OR OLD.state NOT IN ('succeeded', 'failed')
BEGIN
	SELECT RAISE(ABORT, 'refunds are kept until pruned: final and older than the retention window');
END;
