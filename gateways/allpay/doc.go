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
// JSON object or form, a missing or wrong signature, a signType other
// than the configured one, or an answer whose transType, orderNum or merID
// is not the request's, is a pos.Unknown error, never Failed. Then
// RespCode (§6), read per operation, and anything not listed → Unknown:
//
//	RespCode                      | PURC (create)     | INQY, RFQY       | REFD            | VOID
//	------------------------------+-------------------+------------------+-----------------+------------------
//	00 success                    | UserPaying + URL  | Succeeded        | Succeeded       | Succeeded
//	04 processing                 | Unknown           | UserPaying       | UserPaying      | UserPaying
//	01 fail, 61, P3               | Failed            | Failed           | Failed          | Failed
//	U1–U5, U8, P1, P2, P4         | Failed            | Unknown          | Failed          | Failed
//	P5 channel error              | Failed            | Unknown          | Unknown         | Unknown
//	U6 repeat order number        | Unknown (query)   | Unknown          | → RFQY's answer | → INQY: failed ⇒ Succeeded
//	U7 order does not exist       | Unknown           | pos.NotFound     | Failed          | pos.NotFound
//	U9 system error, other codes  | Unknown           | Unknown          | Unknown         | Unknown
//
// A PURC refusal is Failed because no code_url reached the till, so no
// customer can pay that order; a 00 without code_url is Unknown. On an
// inquiry, only 01, 61 and P3 describe the order; the other refusals
// refuse the inquiry itself and say nothing about the order.
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
//     the currency's exponent ("100.00", JPY "100") and reads either.
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
//   - Inquiry status. INQY answers carry only RespCode. 04 ("processing")
//     is read as "not paid yet, still payable", 01 as failed or cancelled,
//     which is what the simulator answers for declined and voided orders.
//     If the platform answered 01 for an order the customer can still pay,
//     the till would end it failed while it stays payable; nothing in the
//     spec suggests so, and 04 is the only code that means "in progress".
//   - Cancellation (VOID) is documented for card (FC) transactions of the
//     same day ("after 23:00 Beijing time, it is considered the next
//     day"), and takes back a paid purchase: it is a reverse (撤销), not a
//     close, so the adapter is a gateways.Reverser and no Closer (a Close
//     that refunds a paid order would break Closer's contract). The flows
//     unwind a merchant QR with Reverse when the gateway has no Closer.
//     VOID is sent with the order's own paymentSchema; the platform
//     decides whether that channel can be voided. An order of an earlier
//     day is sent anyway, and a refusal (Failed) makes the flows query it:
//     paid, it stands and needs a refund. The cancellation's own orderNum
//     is VoidNumber ("V" + the order's), the same on every retry, so a
//     VOID sent twice is answered U6 and resolved by an inquiry of the
//     original instead of being taken as a second cancellation.
//   - Refunds. REFD names its own orderNum (OutRefundNo) and the
//     original; several refunds of one order are allowed up to its amount
//     ("refund amount" with no rule against parts). A retried refund is
//     answered U6 and resolved with RFQY. The platform's transID in a
//     refund answer is Result.RefundID. RFQY answers carry no amount.
//   - Notifications carry no id: Notification.ID is
//     "allpay:orderNum:transID:RespCode", stable across the resends
//     (§4.2.3 schedule). Only RespCode 00 is read as paid, anything else
//     is Unknown (query). Notifications other than PURC, or for another
//     merID, are refused. The acknowledgement is "OK" (plain text); "FAIL"
//     otherwise.
//   - Polling. The spec sets no query interval: posagent's floor is 5 s
//     (MinPollInterval) against a real endpoint, any value when Simulated.
package allpay
