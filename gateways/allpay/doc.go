// Package allpay is the gateway adapter for AllPay (allpayx.com), as its
// Integration Specification V5.0.0 describes it (shared/specs/allpay-v5.txt):
// HTTP POST of form fields to one path per interface, answers and payment
// notifications as flat JSON, every message signed with MD5 or SHA256 over
// its fields sorted "k=v&k=v" with the merchant key appended directly. It
// registers as kind "allpay"; gateways/allpay/allpaysim is its simulator.
//
// # Operations
//
//	operation          | spec section           | wire (path)                     | status
//	-------------------+------------------------+---------------------------------+--------------------------------------
//	CreateQR WeChat    | §4.2, §5.1.1           | PURC tradeFrom=QRCODE WX        | done: code_url → Result.CodeURL
//	CreateQR Alipay    | §4.2, §5.2.4 / §5.9.2  | PURC tradeFrom=QRCODE AP | APHK | done: Options.AlipaySchema picks
//	Query              | §4.3                   | INQY (/api/orderquery)          | done: RespCode is the order's state
//	Reverse            | §4.8                   | VOID (/api/canc)                | done: see "Cancellation" below
//	Refund (partial)   | §4.4                   | REFD (/api/refund)              | done: U6 on a retry → RFQY
//	QueryRefund        | §4.5                   | RFQY (/api/refundquery)         | done: unknown refund → pos.NotFound
//	ParseNotification  | §4.2.3                 | JSON POST to backURL, ack "OK"  | done (Notifier)
//	Micropay           | —                      | —                               | not in the spec: no customer-presented mode
//	Close              | —                      | —                               | not in the spec (VOID is a reverse)
//	pre-auth, manual refund, jump/H5/APP/JSAPI/mini-program modes | §4.6, §4.7, §4.9, §5 | out of scope (not till flows)
//
// # Status mapping
//
// Transport first (gateways.Do: not sent → pos.Unavailable; sent without a
// complete 2xx answer → pos.Unknown). Then trust: a body that is not a flat
// JSON object or form, a missing or wrong signature, or a signType other
// than the configured one is a pos.Unknown error, never Failed. An answer
// whose transType, orderNum or merID is not the request's, or whose amount
// is not the order's, is an Unknown result with Result.Mismatch (logged as
// an error), never adopted. Then RespCode (§6) through the operation's
// outcome table in status.go (each row cites its section; a code in no row
// is Unknown; TestOutcomeTablesCoverSpec reads the spec's §6 and fails when
// a code has no row):
//
//	RespCode                      | PURC (create)     | INQY               | RFQY         | REFD            | VOID          | notification
//	------------------------------+-------------------+--------------------+--------------+-----------------+---------------+-------------
//	00 success                    | UserPaying + URL  | Succeeded          | Succeeded    | Succeeded       | Succeeded     | Succeeded
//	04 processing                 | Unknown           | UserPaying         | UserPaying   | UserPaying      | → INQY        | Unknown
//	01 fail                       | Failed            | Failed after window| Failed       | Failed          | → INQY        | Unknown
//	61, P3                        | Failed            | Failed after window| Unknown      | Failed          | → INQY        | Unknown
//	U1–U5, U8, P1, P2, P4         | Failed            | Unknown            | Unknown      | Failed          | → INQY        | Unknown
//	P5 channel error              | Failed            | Unknown            | Unknown      | Unknown         | → INQY        | Unknown
//	U6 repeat order number        | Unknown (query)   | Unknown            | Unknown      | → RFQY's answer | → INQY        | Unknown
//	U7 order does not exist       | Unknown           | pos.NotFound       | pos.NotFound | Failed          | pos.NotFound  | Unknown
//	U9 system error, other codes  | Unknown           | Unknown            | Unknown      | Unknown         | → INQY        | Unknown
//
// A PURC refusal is Failed because no code_url reached the till, so no
// customer can pay that order; a 00 without code_url is Unknown. "Failed
// after window": inside Options.PayableWindow (default 2 h from the order's
// creation) the order may still be paid, so the code reads UserPaying; an
// order whose creation time is unknown is inside. "→ INQY": Reverse reads
// the order and ends from it (see "Cancellation").
//
// # Ambiguities met, and the choice made
//
//   - Signature. §3 signs "all incoming parameters (except signature
//     parameters)"; its sample string contains signType=MD5, so only
//     signature is left out. The sample string is reproduced exactly by
//     the tests (key 2f2c77e3718c47cfb47a89a6fbc9d361 appended with no
//     "&"); the document gives no resulting hash, so the MD5 and SHA256
//     values in the tests were computed independently (coreutils md5sum
//     and sha256sum). Output is lower-case hex, as later revisions of the
//     document show; received signatures are compared without case.
//   - Empty fields. §3 does not say whether empty fields are signed; later
//     revisions of the document sign them as "k=". posagent never sends an
//     empty field, and verifies a received message first without its empty
//     fields, then with them.
//   - signature is typed String(32) although a SHA256 signature is 64 hex
//     digits, and signType String(3) in some tables although "SHA256" has
//     6 letters: 64 and 10 are allowed. Lengths are counted in bytes of
//     UTF-8, which is never less than a count of characters.
//   - Answer encoding. Notifications are "JSON"; the synchronous answers'
//     encoding is not stated. Both are read as a flat JSON object (numbers
//     kept as written, which is what was signed) or as a form. The
//     simulator answers JSON.
//   - Answer signType. Answers must carry the configured signType; an MD5
//     answer to a SHA256 merchant is not trusted (no downgrade).
//   - orderNum rules. String(60) with no character set: posagent sends and
//     accepts letters, digits, '_' and '-', so no value can confuse the
//     "k=v&" signing text or the form.
//   - Amounts are major-unit decimals ("100 or 100.00"); posagent sends
//     the currency's exponent ("100.00", JPY "100") and reads either,
//     extra decimals accepted when they are zeros (JPY "100.00" is 100 yen,
//     ParseAmount; review A7).
//   - Times. transTime has no zone; the platform is in Shanghai, so it is
//     sent in UTC+8. No answer states when the customer paid (GWTime is
//     "currently local transaction time"), so Result.PaidAt stays zero.
//   - frontURL is mandatory in PURC but means nothing in QRCODE mode
//     (nothing is redirected): Options.FrontURL, default the back URL.
//   - detailInfo (M) is built from the description, one line with
//     quantity "1", as JSON then base64; the spec's sample detailInfo is
//     reproduced byte for byte by DetailInfo. goodsInfo is the description
//     cut to 60 bytes, or Options.GoodsInfo.
//   - AlipayHK. posagent has one Alipay wallet; its QR orders use AP or,
//     with alipay_schema: APHK, the AlipayHK channel. Answers with either
//     schema read back as Alipay.
//   - Expiry. PURC has no expiry field: QRRequest.Expires is not sent; the
//     agent cancels an unpaid order at Timing.QRTimeout.
//   - Inquiry status. INQY answers carry only RespCode. 04 is "not paid
//     yet, still payable". §4.3 says only "01 stands for fail": it may mean
//     "not paid (yet)" as well as "ended", and 61/P3 may describe one
//     declined attempt the customer can follow with another. So inside
//     the payable window they read UserPaying, after it Failed (review
//     A3, A4). To confirm in the sandbox: INQY of an unscanned QRCODE
//     order.
//   - Purchase answer. §5.1.1/§5.2.4/§5.9.2 promise only RespCode,
//     RespMsg and code_url. The signature is still required (every
//     AllPay message carries one; a §5.1.1 answer without signType is
//     verified with the configured type); transType, orderNum, merID and
//     orderAmount are compared when present, not required (review A5).
//   - Cancellation (VOID, §4.8) is documented for card (paymentSchema
//     "FC") transactions of the same day (review A2). Unless
//     Options.VoidQR (yaml void_qr: "the acquirer confirmed VOID for
//     WX/AP/APHK in writing") is set, no VOID is ever sent: Capabilities
//     declare no Reverse, the flows poll the unpaid order until it ends,
//     the QR comes off the display, and a late payment ends Succeeded
//     (flagged for refund by the flows). Reverse, if called anyway, only
//     reads the order (INQY): paid → Failed (not reversed: the payment
//     stands), open → UserPaying, ended unpaid → Succeeded. With VoidQR,
//     each attempt draws a fresh cancellation number (VoidNumber: §4.8
//     forbids repeating one); 00 is Succeeded, any other answer — U6
//     included — is settled by INQY the same way, except that an order
//     reading 01 after a VOID that was not refused counts as cancelled.
//     A VOID answered U6 for a paid or open order therefore never loops
//     on the same number (review A1). VOID is a reverse (撤销), not a
//     close: there is no Closer.
//   - Refunds. REFD names its own orderNum (OutRefundNo) and the
//     original; several refunds of one order are allowed up to its amount
//     ("refund amount" with no rule against parts). A retried refund is
//     answered U6 and resolved with RFQY. The platform's transID in a
//     refund answer is Result.RefundID. RFQY answers carry no amount.
//   - Notifications carry no id: Notification.ID is
//     "allpay:orderNum:transID:RespCode", stable across the resends
//     (§4.2.3 schedule). Only RespCode 00 is read as paid, anything else
//     is Unknown (query). Result carries OutTradeNo and Amount (in
//     orderCurrency) for the flows to compare with the journal (review
//     A6); one for another merID, in another currency than the
//     merchant's, or without orderAmount is Unknown with Result.Mismatch.
//     Notifications other than PURC are refused. The acknowledgement is
//     "OK" (plain text); "FAIL" otherwise.
//   - Points the spec leaves open (review A8), to confirm in the
//     sandbox: signature hex case (lower sent, either accepted); INQY and
//     RFQY transTime (the time of the inquiry is sent); answers signed
//     with the merchant's configured signType (required).
//   - The simulator (allpaysim) is a second reading written from the
//     spec: it imports nothing of this package (deps_test.go); its
//     disagreements with this reading are the contract tests' findings.
//     It can give every §6 answer on every call, or none, with the ledger
//     moving either way; TestTruth runs the truth check (flows/truthtest)
//     on it with a 3 s payable window, so an answer that hides a payment
//     (INQY 01 inside the window) is followed to the truth.
//   - Polling. The spec sets no query interval: posagent's floor is 5 s
//     (MinPollInterval) against a real endpoint, any value when Simulated.
package allpay
