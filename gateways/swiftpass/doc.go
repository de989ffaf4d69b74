// Package swiftpass is the adapter for the Swiftpass QR payment API
// (shared/specs/swiftpass-qr.txt, document 1.5.3, interface 2.0;
// gateway.wepayez.com): flat XML POSTed over HTTPS to one URL, every
// message signed with MD5, SHA256 or RSA_1_256 (SHA256WithRSA). It
// registers as kind "swiftpass"; gateways/swiftpass/swiftpasssim is its
// simulator, a second reading of the spec that imports nothing from this
// package (its own XML, signing and request tables; its signer reproduces
// the §4.2.1/§4.2.2 vectors too), so where the two readings disagree the
// contract suite fails.
//
// The spec has merchant-presented QR codes only: the till shows code_url
// and the customer scans it. There is no micropay and no reverse, so
// Capabilities.Micropay is empty and close is the way out of an unpaid
// order.
//
// # Operations
//
//	operation           | spec section | wire service                     | status
//	--------------------+--------------+----------------------------------+-------------------------------------
//	CreateQR WeChat Pay | §6.1         | pay.weixin.native.intl           | done → code_url, UserPaying
//	CreateQR Alipay     | §6.1         | pay.alipay.native.intl           | done → code_url, UserPaying
//	CreateQR UnionPay   | §6.1         | pay.upi.native.intl              | done → code_url, UserPaying
//	Query               | §6.3         | unified.trade.query              | done (unknown order: pos.NotFound)
//	Close               | §6.6         | unified.trade.close              | WeChat Pay, Alipay; CloseAfter 5m15s
//	Refund (partial)    | §6.4         | unified.trade.refund             | done (accepted: UserPaying)
//	QueryRefund         | §6.5         | unified.trade.refundquery        | final (our out_refund_no entry)
//	ParseNotification   | §6.2, §5     | (platform POSTs; answer success) | done (Notifier)
//	signing             | §4.1, §4.2   | MD5, SHA256, RSA_1_256           | done; §4.2.1/§4.2.2 examples are vectors
//	micropay, reverse   | —            | not in this spec                 | not offered
//
// # Outcome tables
//
// status.go holds one table per operation (OutcomeTable: create, query,
// refund, refundquery, close, notification): every status, result_code,
// err_code (§8.1 to §8.4), trade_state (§6.3.3), refund_status (§6.5.2)
// and pay_result (§6.2.1) the spec lists, its outcome and the section.
// testdata/outcomes.golden prints them whole; outcome_test.go reads
// shared/specs/swiftpass-qr.txt and fails when a listed code has no row.
// A code the spec does not list is Unknown on every operation, never
// Failed and never Succeeded. In short:
//   - Transport: not sent → pos.Unavailable; sent without a complete 2xx
//     answer → pos.Unknown (gateways.Do; redirects are never followed).
//   - Trust: an answer that is not flat XML, or whose sign does not
//     verify with our sign_type and key, is a pos.Unknown error. A status
//     other than "0" is the platform's unsigned protocol error (§3.2, §4:
//     "the failed result will not be signed"): a pos.Unknown error, except
//     on a create (below).
//   - Whose answer: every answer and notification fills Result.OutTradeNo,
//     Amount (total_fee in fee_type, the merchant's currency when absent),
//     OutRefundNo and RefundAmount (refund_fee) as it states them, for the
//     flows to check against the journal (§6.2.1). An answer that names
//     another mch_id, out_trade_no or out_refund_no, another amount than
//     the one asked about (Query with OrderRef.Amount, Refund and
//     QueryRefund with the refund's amount), or lacks one the spec's table
//     requires in it (mch_id always; out_trade_no and total_fee with a
//     paid query or notification; out_trade_no, out_refund_no and
//     refund_fee with an accepted refund or a refund query entry) is a
//     Result.Mismatch: Status Unknown, an ERROR log line, never adopted.
//     The create and close answers carry no out_trade_no (§6.1.4, §6.6.4).
//   - CreateQR: result_code 0 → UserPaying with CodeURL (none: Unknown).
//     Refused (status or result_code not 0) → Failed: code_url is returned
//     only "when status and result_code both are 0", so no QR was shown
//     and nobody can pay the order; except the err_codes that speak of an
//     existing order with our number (Order exists, ORDERPAID, ORDERCLOSED,
//     USERPAYING...) and unlisted codes → Unknown, and the order is queried.
//   - Query: trade_state SUCCESS or REFUND → Succeeded (REFUND is a paid
//     order with refunds); NOTPAY or USERPAYING → UserPaying; CLOSED,
//     REVOKED, PAYERROR → Failed. PAYERROR's order is still open: the flows
//     close it (§6.6.1 "to avoid repeated payment") where
//     Capabilities.CanClose allows. Refused: "Order not exists" or
//     TRADE_NOT_EXIST → pos.NotFound, anything else → Unknown.
//   - Close: result_code 0 or already closed (ORDERCLOSED, TRADE_HAS_CLOSE,
//     Order reverse) → Succeeded; a listed refusal → Failed, after which
//     the flows query the order, as §6.6.4 asks ("the recall function
//     should be used"); system errors and unclear codes → Unknown.
//   - Refund: result_code 0 → UserPaying: accepted, not refunded (§6.4.1:
//     "refunded to the bank account within 1 to 3 working days"). Failed
//     only for refusals that prove it was not made (parameters, amount,
//     order state, balance, period); "Refund exists", system and unclear
//     codes → Unknown, and the refund is queried.
//   - QueryRefund: refund_status_$n of our out_refund_no: SUCCESS →
//     Succeeded, FAIL → Failed, PROCESSING → UserPaying, NOTSURE → Unknown
//     with Result.Resend (§6.5.2: "call the Submit Refund API again with
//     the original refund number"), CHANGE → Unknown with Result.Alert,
//     never Failed (the money went to the merchant's account and must be
//     refunded offline; Failed would free the amount for a second refund).
//   - Notification: status 0, result_code 0, pay_result 0 → Succeeded;
//     anything else → Unknown.
//
// # Audit findings (reviews/2026-12-01/audit-mmsp-swiftpass.md)
//
//   - S1 PAYERROR without a close: fixed. PAYERROR is Failed (§6.3.3
//     "Payment failed"), and the order is one the flows close, since
//     Capabilities.CloseWallets names WeChat Pay and Alipay (§6.6.1 "the
//     original order number needs to be invoked for closing to avoid
//     repeated payment"); a success met on the way, or a close refused
//     because the order was paid, ends Succeeded (the flows' "charged after
//     the till gave up"). swiftpasssim keeps a PAYERROR order payable until
//     it is closed, and the truth check has the cell "PAYERROR, then paid".
//   - S2 total_fee not checked: fixed. Every answer and notification fills
//     Result.OutTradeNo and Amount (total_fee in fee_type) for the flows'
//     check against the journal (§6.2.1); Query also compares them with
//     OrderRef.Amount itself, and a paid answer without out_trade_no or
//     total_fee is a Mismatch.
//   - S3 refund result_code 0 taken as final: fixed. It is accepted
//     (UserPaying); only refund_status_$n of our out_refund_no is final.
//   - S4 CHANGE mapped to Failed: fixed. CHANGE is Unknown with
//     Result.Alert (the money went to the merchant's account, refund
//     offline): the amount stays held.
//   - S5 NOTSURE queried for ever: fixed. NOTSURE is Unknown with
//     Result.Resend: the refund runner sends the same refund again with
//     the same out_refund_no, which §6.4.2 makes safe; swiftpasssim
//     executes a NOTSURE refund when it is sent again.
//   - S6 first close early, margin only against the simulator: fixed.
//     CloseAfter is 5 min + 15 s by default (CloseMargin, for the till's
//     clock against the platform's) and timed from the create's answer;
//     the simulator pairing adds no margin of its own any more.
//   - S7 close sent for UnionPay: fixed. CloseWallets excludes UnionPay;
//     a UPI order is polled until its time_expire (always sent), and
//     swiftpasssim refuses a UPI close.
//   - S8, polling: kept, deliberately. §6.2.2 suggests querying only after
//     5 minutes without a notification, every 5 s, 12 times: that is a web
//     shop's pattern. At a till the customer is waiting, so a merchant QR
//     is polled every PollInterval (5 s, the spec's interval and our
//     floor) until QRTimeout; §8.1's "400 Request too frequent" would come
//     back as an unsigned protocol error, which a query reads as Unknown
//     and simply polls again.
//   - S8, a create refused with the unsigned protocol error: Failed. The
//     spec returns code_url only "when status and result_code both are 0"
//     (§6.1.4), and a QR that was never shown cannot be paid, so a wrong
//     key or configuration fails the payment at once instead of after the
//     QR timeout. (Every other operation keeps a protocol error Unknown.)
//     swiftpasssim's table allows only "not done" behind such an answer.
//   - S8, answers without mch_id or out_trade_no: handled by the tables'
//     required flags. mch_id is "Yes" in every answer with status 0, so
//     its absence is a Mismatch everywhere; out_trade_no is "Yes" only in
//     a paid query (§6.3.3, with SUCCESS), an accepted refund (§6.4.3), a
//     refund query (§6.5.2) and a notification (§6.2.1), and is required
//     there; the create (§6.1.4) and close (§6.6.4) answers do not carry
//     it, so the number asked about is reported.
//   - The simulator shared the adapter's reading: fixed (see above).
//
// # Ambiguities met, and the choice made
//
//   - The worked examples (§4.2.1, §4.2.2) are the truth; their prose is
//     damaged. Both values reproduce only with the listing's fields,
//     attach included, and notify_url https://www.xxxxxx.com/Update (six
//     x's, as in the MD5 listing), sign_type=SHA256 signed in the SHA256
//     one and no sign_type in the MD5 one, under key 9f72151b... (the MD5
//     formula shows another key). MD5 is upper(hex(MD5(string1 +
//     "&key=" + key))). SHA256 is not SHA256 of that text, as its formula
//     reads (that gives 454E3B34...): it is upper(hex(HMAC-SHA256(key,
//     string1 + "&key=" + key))), the keyed form WeChat Pay also uses.
//     sign_test.go holds both vectors.
//   - RSA_1_256: the formula writes RSA(string1&key=...).toUpperCase, but
//     the example's string has no key (it is RSA over string1 with the
//     private key) and its result is base64, which upper-casing would
//     break. So: SHA256WithRSA (PKCS#1 v1.5) over string1, standard
//     base64, never upper-cased; sign_type=RSA_1_256 is signed like any
//     field. The example's private key is damaged, so generated keys test
//     it. Keys are PEM files; the private key must be mode 0600.
//   - What is signed: every non-empty field except sign, sorted by byte
//     order, values raw (§4.1). sign_type is always sent, and so signed
//     (the SHA256 example signs it). version 2.0 and charset UTF-8 are
//     sent too. An answer's sign_type (MD5 when absent, the spec's
//     default) must be ours: an RSA merchant does not accept an MD5
//     answer. Whitespace inside a received sign is ignored (the examples
//     have a stray space), and hex signs are compared ignoring case.
//   - Answers may grow fields (§4.1 point 3): all received fields are
//     signed over, known or not.
//   - XML: requests are <xml> with one element per field, sorted, values
//     in CDATA (as the examples; "]]>" is split across two sections).
//     Answers must be one <xml> root with text-only children; nested
//     elements, a field given twice, DOCTYPEs and text outside fields are
//     malformed.
//   - out_trade_no "can only contain number, letter, or underscore", yet
//     the spec's own example has '-': letters, digits, '_' and '-' are
//     allowed (posagent's numbers are letters and digits). Lengths are
//     UTF-8 bytes, which agrees with body's "128 English, 42 Chinese";
//     descriptions are cut to 128 bytes on a character boundary.
//   - time_start and time_expire are GMT+8 and "must both be uploaded to
//     take effect": both are always sent, time_expire from
//     QRRequest.Expires or QRTimeout (default 5 min, allowed 1 min to 2 h,
//     WeChat's range). A UPI code without time_expire never expires, so
//     this matters most for UnionPay.
//   - Close is documented for WeChat Pay and Alipay only ("UPI can handle
//     repeat QR payment, so merchant don't need to initiate close order",
//     §6.6.1): Capabilities.CloseWallets is WeChat Pay and Alipay, and a
//     UPI order is polled until time_expire (always sent), then queried.
//   - Close within 5 minutes of the order is refused (§7 note 8). The
//     flows time the close from the create's answer; Timing.CloseAfter is
//     5 min + 15 s by default (CloseMargin: the till's clock may run ahead
//     of the platform's, and time_start is sent from it), never under
//     5 min for a real endpoint. Against a simulator the same rule holds
//     with no extra margin: it counts from its receipt of the create.
//     The refusal's err_code is not documented; an unlisted code on a
//     close is Unknown and the flows query.
//   - Polling: "queried every 5 seconds, for a total of 12 queries"
//     (§6.2.2) is PollInterval 5 s (the floor for a real endpoint) and
//     PayTimeout 60 s (12 polls). A merchant QR is polled from the start
//     until QRTimeout: the customer is at the till, so posagent does not
//     wait the 5 minutes the spec suggests for a web shop.
//   - §7 note 9 ("no clear result within 10 seconds ... timed out") is
//     CallTimeout's default, 10 s.
//   - Query, refund and refund query send out_trade_no (journaled before
//     the order is created) and never transaction_id, which would
//     "prevail" when both are sent.
//   - Refund success: §6.4.1 says the result "will be synchronously
//     returned" but also that the money takes 1 to 3 working days, and
//     §6.5.2 lists PROCESSING, FAIL, NOTSURE and CHANGE after it: so
//     result_code 0 is accepted (UserPaying) and only the refund query is
//     final. op_user_id is required on refunds and defaults to mch_id, as
//     the spec says. A refund above the original is answered Failed
//     without sending.
//   - The refund query lists all refunds of the order (refund_count,
//     *_$n); the entry with our out_refund_no is read, and an order
//     without it is pos.NotFound.
//   - Notifications: only status 0, result_code 0 and pay_result 0 is
//     Succeeded; any other pay_result is Unknown, so the flows query
//     rather than fail a payment on a push. The wire has no id: ID is
//     "swiftpass:" + transaction_id (out_trade_no when absent) + ":" +
//     pay_result, the same for every resend. The answer is the pure
//     string "success" (or "fail" for a notification not trusted), within
//     the platform's 5 s. There is no notification for refunds (§6.2.1).
//   - mch_create_ip is required but a till rarely knows its public
//     address: Options.CreateIP, default 127.0.0.1.
//   - Amounts are minor units of the merchant's one currency (Options.
//     Currency, default HKD); an answer's fee_type, when present, names
//     the currency of its amounts.
//   - Times (time_end) are GMT+8.
package swiftpass
