-- 008_reconciliations: the reconciliations the daemon ran by itself
-- (reconcile.daily_at), kept with their reports so that a restart neither
-- loses the last result nor runs a day twice.
CREATE TABLE reconciliations (
	id      INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	ran_at  INTEGER NOT NULL,
	date    TEXT    NOT NULL CHECK (length(date) = 10),
	trigger TEXT    NOT NULL CHECK (trigger IN ('daily')),
	ok      INTEGER NOT NULL CHECK (ok IN (0, 1)),
	issues  INTEGER NOT NULL CHECK (issues >= 0),
	failed  INTEGER NOT NULL CHECK (failed >= 0),
	report  TEXT    NOT NULL
) STRICT;
CREATE INDEX reconciliations_date ON reconciliations (date, id);

-- print_jobs' kind CHECK gains 'test', the support page's test print (no
-- payment, no refund). SQLite cannot alter a CHECK, so the table is rebuilt
-- as in 003; ids are copied, so AUTOINCREMENT carries on above them.
CREATE TABLE print_jobs_008 (
	id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	payment_id TEXT    REFERENCES payments (id),
	refund_id  TEXT    REFERENCES refunds (id),
	kind       TEXT    NOT NULL CHECK (
		(kind IN ('payment-customer', 'payment-merchant', 'void') AND refund_id IS NULL)
		OR (kind IN ('refund-customer', 'refund-merchant') AND refund_id IS NOT NULL)
		OR (kind GLOB 'summary-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]' AND payment_id IS NULL AND refund_id IS NULL)
		OR (kind = 'test' AND payment_id IS NULL AND refund_id IS NULL)),
	reprint    INTEGER NOT NULL CHECK (reprint IN (0, 1)),
	created_at INTEGER NOT NULL,
	not_before INTEGER,
	attempts   INTEGER NOT NULL CHECK (attempts >= 0),
	last_error TEXT    NOT NULL,
	printed_at INTEGER,
	CHECK (payment_id IS NOT NULL OR kind GLOB 'summary-*' OR kind = 'test')
) STRICT;

INSERT INTO print_jobs_008 (id, payment_id, refund_id, kind, reprint, created_at, not_before, attempts, last_error, printed_at)
	SELECT id, payment_id, refund_id, kind, reprint, created_at, not_before, attempts, last_error, printed_at FROM print_jobs;
DROP TABLE print_jobs;
ALTER TABLE print_jobs_008 RENAME TO print_jobs;

CREATE INDEX print_jobs_pending ON print_jobs (id) WHERE printed_at IS NULL;
CREATE INDEX print_jobs_payment ON print_jobs (payment_id, id);
CREATE INDEX print_jobs_refund ON print_jobs (refund_id, id) WHERE refund_id IS NOT NULL;
