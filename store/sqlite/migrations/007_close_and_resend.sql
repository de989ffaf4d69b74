-- 007_close_and_resend: payments gain read_failed (a merchant-QR order
-- read failed is closed before the payment ends failed), and the refund
-- outbox gains 'resend': the same refund sent again with the same
-- out_refund_no, only when the gateway asks for it (Swiftpass NOTSURE).
ALTER TABLE payments ADD COLUMN read_failed INTEGER NOT NULL DEFAULT 0 CHECK (read_failed IN (0, 1));

CREATE TABLE refund_outbox_005 (
	id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	refund_id  TEXT    NOT NULL REFERENCES refunds (id),
	kind       TEXT    NOT NULL CHECK (kind IN ('query', 'resend')),
	not_before INTEGER,
	created_at INTEGER
) STRICT;
INSERT INTO refund_outbox_005 (id, refund_id, kind, not_before, created_at)
	SELECT id, refund_id, kind, not_before, created_at FROM refund_outbox;
DROP TABLE refund_outbox;
ALTER TABLE refund_outbox_005 RENAME TO refund_outbox;
CREATE INDEX refund_outbox_due ON refund_outbox (not_before, id);
CREATE INDEX refund_outbox_refund ON refund_outbox (refund_id, id);
