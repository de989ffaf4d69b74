-- 010_voids: a refund record says how its money goes back: 'refund' (the
-- gateway's refund) or 'void' (the gateway cancels the sale, Allinpay
-- *_CANCEL, same acquirer day, always the whole amount). A void is a refund
-- record because a succeeded payment never leaves its final state.
ALTER TABLE refunds ADD COLUMN method TEXT NOT NULL DEFAULT 'refund' CHECK (method IN ('refund', 'void'));
