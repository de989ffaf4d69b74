// Package swiftpass is the adapter for the Swiftpass QR payment API
// (shared/specs/swiftpass-qr.txt, document 1.5.3, interface 2.0;
// gateway.wepayez.com): flat XML POSTed over HTTPS to one URL, every
// message signed with MD5, SHA256 or RSA_1_256 (SHA256WithRSA). It
// registers as kind "swiftpass"; gateways/swiftpass/swiftpasssim is its
// simulator.
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
//	Close               | §6.6         | unified.trade.close              | done, Timing.CloseAfter 5 min
//	Refund (partial)    | §6.4         | unified.trade.refund             | done
//	QueryRefund         | §6.5         | unified.trade.refundquery        | done (picks our out_refund_no)
//	ParseNotification   | §6.2, §5     | (platform POSTs; answer success) | done (Notifier)
//	signing             | §4.1, §4.2   | MD5, SHA256, RSA_1_256           | done; §4.2.1/§4.2.2 examples are vectors
//	micropay, reverse   | —            | not in this spec                 | not offered
//
// # Status mapping
//
// In the spec's order: status, then result_code, then trade_state.
//   - Transport: not sent → pos.Unavailable; sent without a complete 2xx
//     answer → pos.Unknown (gateways.Do).
//   - Trust: an answer or notification that is not flat XML, whose status
//     is not "0" (the platform's unsigned protocol error, §3.2 and §4:
//     "the failed result will not be signed"), whose sign does not verify
//     with our sign_type and key, or that names another mch_id or
//     out_trade_no is a pos.Unknown error: never Failed.
//   - result_code "0": CreateQR → UserPaying with CodeURL (none: Unknown);
//     Query → trade_state SUCCESS or REFUND → Succeeded (REFUND is a paid
//     order with refunds), NOTPAY or USERPAYING → UserPaying, CLOSED,
//     REVOKED or PAYERROR → Failed, anything else → Unknown; Close and
//     Refund → Succeeded; QueryRefund → refund_status_$n of our
//     out_refund_no: SUCCESS → Succeeded, PROCESSING → UserPaying, FAIL and
//     CHANGE → Failed, NOTSURE and anything else → Unknown.
//   - result_code other than "0", by err_code (compared ignoring case,
//     spaces and underscores, as §8 spells one code several ways; status.go
//     lists them): "Order not exists" → pos.NotFound (query, close, refund);
//     system and channel errors (SYSTEMERROR, Internal error, UNKNOW...) →
//     Unknown everywhere; a query refused otherwise → Unknown. CreateQR:
//     "Order exists" → Unknown, any other code → Failed (no code_url was
//     shown, so nobody can pay the order). Close: already closed →
//     Succeeded, other codes → Failed, after which the flows query the
//     order, as §6.6.4 asks ("the recall function should be used").
//     Refund: only the refusals §8 states (amount, order state, balance,
//     period) → Failed; "Refund exists" and unknown codes → Unknown, and
//     the refund is queried: a refund taken as failed frees its amount.
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
//     repeat QR payment"). It is sent for UnionPay orders too and the
//     platform's answer decides; a refused close makes the flows query,
//     and time_expire ends a UPI code anyway.
//   - Close within 5 minutes of the order is refused (§7 note 8):
//     Timing.CloseAfter is 5 min (not less for a real endpoint) and the
//     flows wait for it; the default QR timeout is the same 5 minutes.
//     The refusal's err_code is not documented; it is read as any refused
//     close (Failed, then a query).
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
//     returned", so result_code 0 is Succeeded; QueryRefund reads the
//     per-refund state. op_user_id is required on refunds and defaults to
//     mch_id, as the spec says. A refund above the original is answered
//     Failed without sending.
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
