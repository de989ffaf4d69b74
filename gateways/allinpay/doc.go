// Package allinpay is the adapter for Allinpay International's OATS QR
// payment API (shared/specs/allinpay-oats-qr.txt): HTTP POST of key-value
// fields, every message signed RSA2 (SHA256WithRSA, 2048-bit) over its
// non-empty fields except signature, sorted, joined k=v&k=v in UTF-8.
// Requests are signed with the merchant's private key; every answer and
// notification is verified with the platform's public key, and one that
// does not verify is never trusted: it is a pos.Unknown error, never a
// failure. allinpaysim is its simulator, a second reading of the spec that
// imports nothing of this package (deps_test.go).
//
//	operation          | spec    | wire command                          | notes
//	-------------------+---------+---------------------------------------+------------------------------------------
//	Micropay           | 1.5.2.1 | WXPAY/ALIPAY/UNIONPAY_MICROPAY        | MicropayWithTips: tipsAmount
//	CreateQR           | 1.5.2.1 | WXPAY/ALIPAY/UNIONPAY/PAYNOW_SCANCODE | codeUrl, expireTime; PayNow SGD only, 3 min
//	Query              | 1.5.2.2 | TRANS_QUERY                           | unknown order: pos.NotFound; paced 10 s
//	Refund             | 1.5.2.3 | <wallet>_RETURN                       | partial; 0022 (a retry) read by QueryRefund
//	QueryRefund        | 1.5.2.2 | TRANS_QUERY of the refund's number    | then the original, then the bill
//	Reverse            | 1.5.2.4 | <wallet>_CANCEL, then TRANS_QUERY     | never CLOSE_ORDER for a micropay
//	Void               | 1.5.2.4 | <wallet>_CANCEL, outTransNo the void  | a paid order of today (UTC+8), in full
//	QueryVoid          | 1.5.2.2 | TRANS_QUERY of the original           | 0029 voided; paid: resent today, else Failed
//	Close              | 1.5.2.5 | CLOSE_ORDER (WeChat Pay, Alipay QR)   | others: read until they expire
//	ParseNotification  | 1.5.2.6 | (platform POSTs; answer SUCCESS)      | by transType: pay, refund, void, close
//	DownloadBill       | 1.5.3.1 | DOWNLOAD_CHECK_BILL (base64 CSV)      | typed Bill; date in UTC+8
//
// # Outcomes
//
// Every outcome comes from a table per operation and field (status.go):
// each code §1.7 lists, its outcome and the section it comes from. A code
// the spec does not list, a missing returnCode (mandatory in every
// response table) or a missing resultCode after 0000 is Unknown, never
// Failed. Failed is a claim: for a payment, that no money moved (the
// order ended declined, closed or voided, or the request was refused
// before it could reach a wallet); for a void or close, that it was not
// executed (the caller then reads the order); for a refund, that it was
// not executed, so its amount is free again. The codes that say the order
// was paid (0074, 0038, 0056, 0031) and "busy", "abnormal", "to be
// voided", "unknown mistake" (9996, 0040, 0024, R000, 9999) are never
// Failed for a payment, a query, a notification or a refund. The tables,
// every outcome but Unknown listed (TestDocTables keeps this copy true;
// TestOutcomeTablesCoverSpec reads the spec file and fails when one of its
// codes has no row):
//
//	pay returnCode — read resultCode: 0000; failed: 0001 0002 0003 0004 0005 0006 0009 0010 0011 0012 0013 0014 0016 0017 0018 0045 0046 0047 0049 3200 3201 3203 3205 3206 3207 3406; any other: unknown
//	pay resultCode — succeeded: 0000; processing: 0051 0058 9997 P000; failed: 0001 0002 0003 0004 0005 0006 0008 0009 0010 0011 0012 0013 0014 0016 0017 0018 0019 0023 0027 0035 0045 0046 0047 0049 0076 0077 0078 0079 0080 0081 0082 0083 0084 3003 3004 3009 3010 3200 3201 3203 3205 3206 3207 3406 9998; any other: unknown
//	query returnCode — read resultCode: 0000; not found: 0007 0025; any other: unknown
//	query resultCode — succeeded: 0000; processing: 0033 0034 0051 0058 9997 P000; failed: 0008 0019 0023 0029 0039 0076 0077 0078 0079 3003 3004 3009 3010 9998; not found: 0007 0025; any other: unknown
//	void resultCode — succeeded: 0000 0029; processing: 0024 0033 0051 0058 9997 P000 R000; failed: 0001 0002 0003 0004 0005 0006 0009 0010 0011 0012 0013 0014 0018 0026 0031 0032 0035 0036 0038 0039 0045 0046 0047 0049 0056 0074 3406; not found: 0007 0025; any other: unknown
//	close resultCode — succeeded: 0000 0029 0039; processing: 0051 0058 9997 P000; failed: 0001 0002 0003 0004 0005 0006 0009 0010 0011 0012 0013 0014 0018 0026 0031 0032 0035 0038 0045 0046 0047 0049 0056 0074 3406; not found: 0007 0025; any other: unknown
//	void/close/refund returnCode — read resultCode: 0000; failed: 0001 0002 0003 0004 0005 0006 0009 0010 0011 0012 0013 0014 0018 0045 0046 0047 0049 3406; any other: unknown
//	refund resultCode — succeeded: 0000; processing: 0034 0051 0058 9997 P000; failed: 0001 0002 0003 0004 0005 0006 0007 0008 0009 0010 0011 0012 0013 0014 0016 0017 0018 0023 0025 0026 0027 0029 0036 0039 0045 0046 0047 0049 0055 3200 3201 3203 3205 3206 3207 3406 9998; any other: unknown
//	refund query returnCode — read resultCode: 0000; any other: unknown
//	refund query resultCode — succeeded: 0000; processing: 0033 0034 0051 0058 9997 P000; failed: 9998; any other: unknown
//	bill resultCode — succeeded: 0000; processing: 0051 0058 9996 9997 P000; not found: 0007 0025; any other: unknown
//
// Notifications have no returnCode (§1.5.2.6): a payment's resultCode is
// read by the query table, a refund's by the refund query table; a void's
// or close's is acknowledged and its order read by query (Unknown).
//
// What an answer is about is checked before anything is adopted: an
// answer or notification for another mchNo, an answer naming another
// outTransNo (a void or close may name its own number or the original's;
// a refund its own or the original's), or a transAmount and currency
// other than the order's (or the refund's) is Unknown with
// Result.Mismatch set and an ERROR log line, never adopted and never a
// reason to reverse. Result.OutTradeNo, Amount, OutRefundNo and
// RefundAmount are filled from every answer and notification for the
// flows' own check.
//
// Field rules: each request is a typed struct whose tags carry the spec's
// type and length (messages.go); they are checked before signing and a
// breach is a pos.Invalid error naming the field, e.g.
// "field outTransNo (AN..32): is 33 bytes, longer than 32".
//
// # Ambiguities in the spec and what this package does
//
//   - Body encoding. §1.4.3 says "key-value, divided by '%'" (damaged).
//     Requests are application/x-www-form-urlencoded; answers are read as
//     form encoding or, equally, a flat JSON object (the simulator answers
//     in both; the contract suite alternates). Signatures are over the
//     decoded values: the example signs "notifyUrl=http://...". A space in
//     a received signature is a '+' of a body that was not percent-encoded.
//   - signType in the signed text. "all the non-null fields ... except
//     signing fields" could exclude signType; the example is damaged where
//     it would show. signType is signed; only signature is left out. The
//     first signed exchange with the test platform settles it.
//   - Signature encoding: base64 (standard, padded), as the Java demos the
//     spec mentions produce; line breaks in a received one are ignored.
//   - Lengths. "ANx32", "AN 20", "N12" are all read as maxima (version is
//     ANSx6 with the value V1.0). §1.5.1.3 counts a Chinese character as 2
//     bytes; we count UTF-8 bytes (3), which is never less, so what we
//     send passes either count (the simulator counts 2). Damaged lengths:
//     notifyUrl "ANSx2" is taken as 256 (the other tables' value),
//     authCode "ANSx1" as 128.
//   - Character classes. AN admits '_' and '-' (the spec's own AN
//     transType values contain '_'); the S classes admit any printable
//     character; N and A are strict.
//   - accessCode is described as "8-digit" but the example has 12 digits:
//     only the AN 20 rule is checked.
//   - terminalId is not in the request table but is in the signing
//     example; it is sent when configured (AN..20 assumed).
//   - expireTime is in minutes (default 30, PayNow 3): CreateQR sends the
//     minutes until Expires, rounded up, or QRTimeout's; a PayNow order's
//     never more than 3. An SGD merchant (the only one offered PayNow) has
//     its QR timeout capped at 3 minutes, so the till's deadline is the
//     code's.
//   - Currencies: §1.8.3's CNY, HKD, USD, CAD, SGD only; amounts are
//     integer cents (§1.5.1.2).
//   - Void. §1.5.2.4 allows only successful transactions of the same day,
//     and CLOSE_ORDER is for WeChat Pay and Alipay QR orders (§1.5.2.5):
//     nothing cancels a micropay the customer has not confirmed. Reverse
//     voids; when the void finds the order not voidable (0026, 0032, 0031,
//     ...) or unknown (0025), or the order is from an earlier day
//     (OrderRef.SubmittedAt, platform time UTC+8), it reads the order:
//     ended unpaid is Succeeded (nothing charged), still processing is
//     UserPaying (the flows retry the reverse until the wallet gives up),
//     paid meanwhile is voided once more, paid on an earlier day is Failed
//     (a refund is owed), unknown to void and query is pos.NotFound. A
//     WeChat Pay or Alipay QR order that is not voidable is closed.
//   - Void of a sale (gateways.Voider: the till's void of a succeeded
//     payment, journaled as a refund record). Voidable only when the
//     order was submitted on the platform's current day, so it was paid
//     that day too. Void sends the *_CANCEL with the record's
//     out_refund_no as outTransNo and reads the void table. QueryVoid
//     reads the original order, since TRANS_QUERY takes the original's
//     number: voided (0029) is Succeeded; processing (0033, ...) is
//     UserPaying; still paid today is Unknown with Resend (the same void
//     is sent again: a repeat is answered 0029, and a void can only take
//     money back); still paid on a later day is Failed, since §1.5.2.4
//     presents failure for "the transaction of other time" (the payment is
//     then refunded); not found, or an order reading closed or declined,
//     is Unknown and asked again.
//   - Close of a UnionPay or PayNow QR order, or of a micropay, is not
//     sent (Capabilities.CloseWallets is WeChat Pay and Alipay): Close
//     reads the order instead (ended unpaid: Succeeded; payable: UserPaying
//     until its expireTime passes; paid: Failed).
//   - The void and close requests carry an outTransNo of their own: "V" or
//     "C", the original's number and 6 random digits, fresh per attempt (a
//     repeat is recognised by 0029 voided, 0039 closed), so a notification
//     about the void or close names its order.
//   - Refunds. OutRefundNo is the refund's outTransNo, so a retried refund
//     is recognised (0022) and then read. There is no refund query:
//     TRANS_QUERY takes "original transaction number of merchant"
//     (§1.5.2.2). QueryRefund asks it about the refund's own number first
//     (where the platform indexes refunds as transactions, that answers);
//     0007/0025 there proves nothing and is settled, never by a timer, by
//     the original (unknown, closed, voided or declined: the refund cannot
//     have been executed, Failed) and by the bills from the original's day
//     (at most 7 days) to yesterday, UTC+8: a line with the refund's number
//     proves it executed (Succeeded); else Unknown, and the amount stays
//     held. A refund above the original is refused before sending (Failed,
//     with no platform code: none was received).
//   - Query answers have no outTransNo in their table; the requestNo echo
//     binds them to the order asked about. Their transType may be the
//     query's; the wallet falls back to OrderRef.Wallet.
//   - Every answer must echo our requestNo (it is mandatory in every
//     response table); one that does not is not the answer to this request
//     and is Unknown, which also defeats replay of an old signed answer.
//   - The 10 s between queries (§1.5.2.2) is Timing.MinPollInterval, the
//     minimum PollInterval except with Options.Simulated, and is held by
//     the client itself per order number (timed from the end of the
//     previous query): a query asked sooner waits, or is not sent
//     (pos.Unavailable) when the caller's deadline comes first.
//   - Notifications: the ID is transType:outTransNo:transNo:resultCode, the
//     same for every resend. One for another mchNo comes back with
//     Mismatch (not refused forever); one of an unknown transType is
//     Unknown for the order it names.
//   - DOWNLOAD_CHECK_BILL has no mchNo in its table and none is sent. The
//     bill URL differs from the transaction URL (§1.6.4); BillEndpoint is
//     derived from Endpoint when not set. billDate is the day in UTC+8.
//     resultCode is C: 0000 with billData is the bill; 0000 without
//     billData is an error (a day without sales still has its summary
//     line). Fields are "separated by comma" with no quoting rule: quotes
//     are data (LazyQuotes). The CSV has no documented header (one is
//     tolerated); amounts are decimals "as per ISO currency decimal" and
//     may be negative; the summary's amounts are read in its settlement
//     currency, a detail's fee in the settlement currency and its total
//     and discount in the transaction currency. Redirects are never
//     followed.
//   - payTime is "time of the system": read as UTC+8, the platform's zone,
//     as yyyyMMddHHmmss (§1.5.2.1) or yyyy-MM-dd HH:mm:ss (§1.5.2.2 gives
//     AS20); anything else is logged and left zero.
//   - goodsSubject appears only in the §1.4.2 example, with no definition
//     and no row in §1.5.2.1's table: MicropayRequest.Description is not
//     sent. If the test platform answers 0001 for its absence, it is one
//     field to add.
//   - limitPay "is only for Wechat Pay and Alipay" (§1.5.2.1): sent only
//     with WXPAY_* and ALIPAY_*. Its value is the merchant's option
//     (limit_pay); the spec's example shows "creditCard", WeChat's own API
//     "no_credit": confirm with Allinpay.
//   - The platform public key may be PEM or bare base64 of the DER
//     SubjectPublicKeyInfo (the form integrations are handed).
//
// # Audit of 2026-12-01 (reviews/2026-12-01/audit-allinpay.md), finding by finding
//
//   - Audit 1 (query codes defaulting to Failed): fixed; the query table,
//     Failed only for declined, voided, closed. TestOutcomeRules.
//   - Audit 2 (submit busy/abnormal/to-be-voided read as declined): fixed;
//     Unknown. TestOutcomeRules.
//   - Audit 3 (any returnCode but 0000, or none, a refusal): fixed; only
//     admission refusals are Failed, a missing returnCode Unknown.
//   - Audit 4 (refund 9999/9996/0040 freeing the amount): fixed; Unknown.
//     TestRefundOutcomes, the truth check's refund cells.
//   - Audit 5 (QueryRefund): fixed; processing codes processing, not found
//     on the refund's own number settled by the original and the bill
//     (above); StrictRefundQuery runs the simulator that way.
//     TestRefundOutcomes. The 10-minute timer that failed such refunds is
//     the flows' (core).
//   - Audit 6 (micropay "reversed" by CLOSE_ORDER): fixed (above).
//     TestReverseMicropayNeverClosed; allinpaysim never closes a micropay.
//   - Audit 7 (colliding order numbers adopted): transAmount, currency,
//     mchNo and outTransNo are compared (Mismatch, above).
//     TestAnswersCheckedAgainstTheOrder. Numbers unique per merchant are
//     the flows' (core: flows/ids.go).
//   - Audit 8 (void and close answers naming the original): fixed.
//     TestVoidAndCloseAnswersNamingTheOriginal.
//   - Audit 9 (limitPay for every wallet): fixed (above). The goldens
//     for UnionPay and PayNow carry none.
//   - Audit 10 (CLOSE_ORDER for UnionPay and PayNow): fixed (above).
//     TestCloseOnlyWhereTheSpecOffersIt.
//   - Audit 11 (PayNow validity and currency): fixed (above).
//     TestLimitPayAndPayNow, qr_paynow.golden (SGD, expireTime=3).
//   - Audit 12 (queries closer than 10 s): the client holds the interval
//     per order number itself (above); the flows' own pacing is core's.
//   - Audit 13 (goodsSubject): answered above; not sent.
//   - Audit 14 (refund, void, close notifications refused forever):
//     dispatched by transType (above). TestNotificationsByTransType.
//     Routing a refund notification (Result.OutRefundNo) to the refund
//     flow is the flows' (core).
//   - Audit 15 (bill): fixed: missing resultCode tolerated with billData,
//     an empty bill an error, lazy quotes, billDate in UTC+8.
//     TestDownloadBillRules.
//   - Audit 16 (refund above the original with a made-up 0027): no code
//     is invented any more; it stays Failed, not pos.Invalid, because the
//     contract suite (and the till) read a refusal of a refund as a
//     Failed result with a reason, and nothing was sent.
//   - Audit 17 (currency set): fixed; §1.8.3's five. TestLimitPayAndPayNow.
//   - Audit 18 (payTime format): both formats read, others logged.
//   - Audit 19 (raw '+' in a body): fixed. TestSignatureWithRawPlusAndBareKey.
//   - Audit 20 (bare base64 key): fixed. TestSignatureWithRawPlusAndBareKey.
//   - Audit 21 (the simulator shares the adapter's reading): allinpaysim
//     is rewritten from the spec (own parsing, signing, tables, words) and
//     answers in form and JSON; deps_test.go keeps it so.
//   - Audit 22 (the simulator closes anything unpaid): it closes only
//     unpaid WeChat Pay and Alipay QR orders; a micropay ends when the
//     wallet gives up, a QR order when it expires.
//   - Audit 23 (the simulator emits only what the adapter handles): it can
//     give every documented answer on every call (Answers, ScriptAnswer)
//     with the truth either way; a repeated refund number is 0022; its
//     void and close answers echo the void's own number and the tests'
//     fake platform the original's. The truth check runs them all.
//   - Audit 24 (rules not enforced): requestNo reuse, tips above the
//     amount, limitPay outside WeChat Pay and Alipay, PayNow outside SGD
//     and its 3 minutes, the query interval (scaled only by option) are
//     enforced (allinpaysim tests). Unknown fields are let through: the
//     spec's own example carries fields its tables do not list.
package allinpay
