// Package hipopay is the adapter for HipoPay's API
// (shared/specs/hipopay-miniprogram.txt): HTTPS, parameters in the query
// string (GET) or a form (POST), JSON answers, every message signed RSA
// SHA-256 over its parameters sorted "k=v&k=v", then "," and the Timestamp
// header, the signature in the Signature header beside MerchantNO, Version
// and Timestamp. Requests are signed with the merchant's private key; every
// answer and notification is verified with the platform's public key, and
// one that does not verify is never trusted: a pos.Unknown error, never a
// failure. hipopaysim is its simulator.
//
// # What this gateway is for at a till
//
// HipoPay's payments are placed by the customer's WeChat mini-program
// (POST /wechatpay/mini_program/payment, called from the mini-program and
// unsigned): the till never starts one. This adapter therefore declares no
// micropay and no merchant QR but Capabilities.External: the flows adopt
// an order into the journal as an external payment when it is verified
// paid, from a PAID notification or when the cashier looks it up (POST
// /v1/payments/lookup, posagent lookup, by out_trade_id or payment_no;
// flows/external.go), and the till then shows, refunds (in part or in
// full), reprints and sums it like any payment (review H6: the kind is
// registered in cmd/posagent, and serve, simulate and demo --tour run
// it). It serves the operations a till needs for orders created
// elsewhere: checking an order, refunding it in part or in full,
// following the refund, receiving the payment notification, downloading
// the reconciliation report and reading the reference exchange rate
// (ForexQuote, gateways.ForexQuoter: the customer display's CNY
// equivalent, cached with its time by cmd/posagent).
//
// hipopaysim is a second reading of the spec (it imports nothing of this
// package) and also serves the spec's Place an Order API, standing in for
// the mini-program. It is a gatewaytest.Truther on the sim.Base chassis:
// any answer the spec documents on any call (answers.go there), or none,
// with the ledger moving independently. TestTruth runs the truth check
// (flows/truthtest) on seeded orders: placed at the simulator, adopted
// from their PAID notification or by the cashier's lookup, refunded in
// part and in full, for every payment status, refund status, Refund Code
// and Error Code with the truth going either way (388 cells, no known
// failures: the tables below already agree with the ledger everywhere).
//
//	operation          | spec section               | endpoint                   | status
//	-------------------+----------------------------+----------------------------+------------------------------------------
//	Query              | Check Payment Order        | GET  /payment              | done (unknown order: pos.NotFound)
//	Refund             | Refund                     | POST /payment_refund       | done (partial; never above the original)
//	QueryRefund        | Check Refund               | GET  /payment_refund       | done (unknown refund: pos.NotFound)
//	ParseNotification  | Payment Notification       | POST [notify_url]          | done (ack "success")
//	DownloadBill(Range)| Export Reconciliation Rep. | GET  /download_bill        | done (typed Bill, BillRecord)
//	DailyBill          | Export Reconciliation Rep. | GET  /download_bill        | done (gateways.BillSource, UTC+8 day)
//	ForexRate          | Check Exchange Rate        | GET  /wechatpay/forex_rate | done (exact big.Rat)
//	place order        | Place an Order             | POST /wechatpay/mini_program/payment | out of scope: mini-program only
//	customs            | WeChat Pay customs APIs    | /wechatpay/(re)declaration | out of scope (README)
//
// Status mapping: outcome tables in status.go, one row per code the spec
// lists with its section (TestOutcomeTablesCoverSpec reads the spec and
// fails on a code without a row; an unlisted code is Unknown). Payment PAID succeeded; INIT and USERPAYING
// user paying; FAIL and EXPIRED failed; anything else unknown. Refund
// SUCCESS succeeded; PROCESSING in progress (user paying); FAIL failed,
// except with a result code that does not say the refund was not made
// (0001 already exists, system and channel errors, need retry): unknown.
// An answer with is_success false: PAYMENT_NOT_FOUND and REFUND_NOT_FOUND
// are pos.NotFound on the queries; on a refund, the documented refusals
// (REFUND_AMOUNT_INVALID, ILLEGAL_SECURITY_PROFILE, PAYMENT_NOT_FOUND) are
// failed and any other code unknown; a refused query is an Unknown result.
//
// # Ambiguities in the spec and what this package does
//
//   - No worked signature example: the spec gives the rule and no values,
//     so there is no vector to reproduce. The tests pin the signed text of
//     every request in golden files and check the RSA signature against
//     openssl both ways.
//   - The signed text. "URL key pair format" is read as values unescaped
//     (the URL encoding belongs to the transport); every parameter present
//     is signed, empty values included ("k="); the adapter never sends an
//     empty one. The sort is by byte value of the names ("ASCII code in
//     ascending lexicographical order").
//   - Timestamp's format is not given: Unix seconds in decimal, like the
//     mini-program's timeStamp. 13-digit milliseconds are accepted when
//     received.
//   - Answers. The spec signs requests and verifies notifications; it
//     documents no signature on answers (review H1). An answer over TLS
//     from the configured host (https is required unless loopback or
//     simulated) is trusted as it is, after the checks below; a Signature
//     header, when present, must verify (over the JSON read as parameters,
//     AnswerParams: the members of "response" lifted beside is_success,
//     error, error_message and return_message) and its Timestamp be within
//     MaxClockSkew, and Options.RequireSignedAnswers (yaml
//     require_signed_answers) refuses unsigned answers, for when HipoPay
//     confirms that it signs them. An answer must name the order (or
//     refund) asked about, for the same amount: otherwise it is Unknown
//     with Result.Mismatch.
//   - Refunded amount. refund_amount in a refund answer is compared with
//     the amount asked (review H4): another amount is Unknown with
//     Result.Mismatch (the platform refunds the whole order when it does
//     not take refund_amount).
//   - Notifications: only PAID is believed ("it is notified only when
//     payment is successful", review H5); any other status is Unknown and
//     the order is queried.
//   - The report is a text file with no documented signature (review
//     H2): trusted like an answer; a Signature header is verified over the
//     body itself, "," and the Timestamp header (BillSigningString). Its
//     dates are the platform's (UTC+8): the day asked is converted to
//     PlatformZone first (review H8).
//   - The spec's examples write True, False and trailing commas (not JSON).
//     Answers are parsed as strict JSON; is_success may be a JSON boolean
//     or the string "true"/"True"/"false"/"False".
//   - Headers go out spelled as the spec spells them (MerchantNO), though
//     HTTP names are case-insensitive. Version is "1.0" except for the
//     report, whose section asks for "3.0" (Options.Version, BillVersion).
//   - Check order takes payment_no or out_trade_id: payment_no is sent when
//     known (OrderRef.TransactionID), else out_trade_id; never both, so
//     the platform cannot pick one and ignore the other. A till's order of
//     a different amount than it expects is Unknown, not Succeeded.
//   - Refund requires payment_no. When the till knows only out_trade_id,
//     Refund first checks the order to learn it; if that fails the refund
//     was not sent (pos.Unavailable). refund_amount is always sent: without
//     it the platform refunds the whole order, which a retry after a
//     partial refund must never mean. Amounts are decimals in the order's
//     currency, none for JPY and KRW (pos.Money.Decimal).
//   - A refund answer with is_success true can still be status FAIL with a
//     result_code from the spec's Refund Code table (the spec's own
//     example); see the status mapping above.
//   - Check refund takes refund_no or out_refund_id: out_refund_id (our
//     OutRefundNo) is sent; the request type has no refund_no.
//   - Notifications: the spec says "form of the POST request"; a form body
//     is read, and a JSON object too (read like an answer). There is no
//     notification id: ID is "hipopay:" + payment_no + ":" + status, the
//     same for every resend. Their Timestamp is not checked for age (the
//     platform resends for about 50 minutes). The acknowledgement is
//     "success" (lower case, as quoted); a refusal answers "fail".
//   - trade_type names a channel, not a wallet ("MINIPROGRA", "APP"):
//     mini-program orders are WeChat Pay; otherwise the wallet is the
//     till's OrderRef.Wallet or unset.
//   - Times (trade_time, finish_time, report lines) carry no zone: read as
//     UTC+8 (PlatformZone), HipoPay being a Hong Kong platform.
//   - The report: an optional caption line, a header line of 18 columns,
//     then one line per movement. Order numbers carry a leading "`"
//     (spreadsheet text marker), removed. Amounts are "0.99 HKD",
//     "-0.99 HKD" or "-" (none). In the spec's refund line, "External
//     Refund Order No." holds the refunded order's external number; the
//     column is returned as written (BillRecord.OutRefundID). Reports
//     larger than gateways.MaxResponseBytes (1 MiB) are refused; a day's
//     report of a till merchant is far smaller.
//   - Reconciliation (DailyBill, gateways.BillSource): a collection line
//     is a payment by its Transaction Amount (the Credit is net of the
//     fee); a refund line a refund of the order in External Refund Order
//     No., by its Refund Amount, named by its Order No. (the refund_no,
//     which the journal keeps) since the spec's example leaves its
//     External order No. empty; a line that names no order (withdrawal,
//     conversion) is left out, one of an unknown type that names an order
//     is an error. A body without the header line is an error, never a
//     day without sales. The report's signature is checked as any
//     answer's: verified when present, required with
//     require_signed_answers.
//   - Forex: "target currency / CNY" is read as units of the currency per
//     CNY (the USD example, 0.149, is about 1/6.7); the rate is returned
//     exactly (big.Rat and the text) and posagent computes nothing with it.
//   - Timing: the spec sets no polling rule. Queries default to every 5 s
//     (also the floor), calls time out after 15 s (floor 5 s); the floors
//     are lifted only with Options.Simulated. No reverse or close exists.
//   - Identifiers (out_trade_id, payment_no, out_refund_id) have no
//     documented length or alphabet. The signed text may be read raw (as
//     the vendor's callback vector is) or URL-encoded (as the vendor SDKs
//     sign requests); the two agree only on letters, digits, '.', '_' and
//     '-' (review H3). posagent sends 1 to 64 of those; anything else is
//     refused before sending with an Invalid error naming the rule.
//   - Timestamp (review H7): seconds are sent; answers are not signed by
//     the spec, so the strict parse matters only for a Signature header
//     that is present. Notifications' Timestamp is not parsed.
package hipopay
