-- 010_voids: a refund record says how its money goes back: 'refund' (the
-- gateway's refund) or 'void' (the gateway cancels the sale, Allinpay
-- *_CANCEL, same acquirer day, always the whole amount). A void is a refund
-- record because a succeeded payment never leaves its final state.
ALTER TABLE refunds ADD COLUMN method TEXT NOT NULL DEFAULT 'refund' CHECK (method IN ('refund', 'void'));

-- A pruned day's summary keeps its voids apart from its refunds, as the
-- live summary does; only ever added to, like the other totals.
ALTER TABLE day_totals ADD COLUMN voids INTEGER NOT NULL DEFAULT 0 CHECK (voids >= 0);
ALTER TABLE day_totals ADD COLUMN voided_minor INTEGER NOT NULL DEFAULT 0 CHECK (voided_minor >= 0);
CREATE TRIGGER day_totals_voids_only_add BEFORE UPDATE ON day_totals
	WHEN NEW.voids < OLD.voids OR NEW.voided_minor < OLD.voided_minor
BEGIN
	SELECT RAISE(ABORT, 'day totals may only be added to');
END;
