-- 006_external_payments: a payment the till did not start (an order placed
-- in a HipoPay mini-program, adopted when the gateway verified it paid).
-- It is shown, refunded, reprinted and summed like any other payment;
-- external says where it came from.
ALTER TABLE payments ADD COLUMN external INTEGER NOT NULL DEFAULT 0 CHECK (external IN (0, 1));
