-- 005_api: what the till's API needs beyond the payment itself.
--
--   * payments.reference: the till's own order id (optional, searchable), so
--     a till that lost a create's answer finds its payment by it.
--   * payments.lane: the scanners and display of one till; one payment per
--     lane waits for a scan.
--   * idempotency_keys: an Idempotency-Key, the fingerprint of the request
--     it came with (method, path, body hash) and what it created. The row of
--     a payment or refund is inserted in the same transaction as the
--     payment or refund; the first answer (status, body) is recorded once
--     it is sent. Rows are kept (never pruned today), so a key means one
--     thing for at least the 48 hours the API promises.

ALTER TABLE payments ADD COLUMN reference TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN lane TEXT NOT NULL DEFAULT '';
CREATE INDEX payments_reference ON payments (reference, created_at) WHERE reference <> '';

CREATE TABLE idempotency_keys (
	key         TEXT    NOT NULL PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 255),
	fingerprint TEXT    NOT NULL CHECK (fingerprint <> ''),
	payment_id  TEXT    NOT NULL,
	refund_id   TEXT    NOT NULL,
	status      INTEGER NOT NULL CHECK (status = 0 OR status BETWEEN 200 AND 599),
	response    BLOB,
	created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX idempotency_created ON idempotency_keys (created_at);
