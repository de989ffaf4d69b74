-- 002_print_jobs: the print queue. A row is a receipt owed to the printer:
-- what to print (a payment and a receipt kind), never printer bytes, so a
-- reprint renders from the journal for the printer configured today.
-- Rows are kept once printed (printed_at set) as the record of what was
-- printed and when; pending rows are those with printed_at NULL.
--
-- Encoding as in 001_init: times are INTEGER Unix nanoseconds, NULL is the
-- zero time; booleans are INTEGER 0/1.

CREATE TABLE print_jobs (
	-- AUTOINCREMENT: an id is never reused, so a stale MarkPrinted can
	-- never complete a newer job.
	id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	-- NULL for a receipt of no single payment (a summary).
	payment_id TEXT    REFERENCES payments (id),
	kind       TEXT    NOT NULL CHECK (
		kind IN ('payment-customer', 'payment-merchant', 'void')
		OR (kind GLOB 'summary-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]' AND payment_id IS NULL)),
	reprint    INTEGER NOT NULL CHECK (reprint IN (0, 1)),
	created_at INTEGER NOT NULL,
	not_before INTEGER,
	attempts   INTEGER NOT NULL CHECK (attempts >= 0),
	last_error TEXT    NOT NULL,
	printed_at INTEGER,
	CHECK (payment_id IS NOT NULL OR kind GLOB 'summary-*')
) STRICT;

CREATE INDEX print_jobs_pending ON print_jobs (id) WHERE printed_at IS NULL;
CREATE INDEX print_jobs_payment ON print_jobs (payment_id, id);
