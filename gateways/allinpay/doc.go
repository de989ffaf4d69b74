// Package allinpay is the adapter for Allinpay International's OATS QR
// payment API (shared/specs/allinpay-oats-qr.txt): HTTP POST of key-value
// fields, every message signed RSA2 (SHA256WithRSA, 2048-bit) over its
// non-empty fields except signature, sorted, joined k=v&k=v in UTF-8.
// Requests are signed with the merchant's private key; every answer and
// notification is verified with the platform's public key, and one that
// does not verify is never trusted: it is a pos.Unknown error, never a
// failure. allinpaysim is its simulator.
//
//	operation            | spec    | wire command                          | status
//	---------------------+---------+---------------------------------------+------------------------------------
//	Micropay             | 1.5.2.1 | WXPAY/ALIPAY/UNIONPAY_MICROPAY        | done (MicropayWithTips: tipsAmount)
//	CreateQR             | 1.5.2.1 | WXPAY/ALIPAY/UNIONPAY/PAYNOW_SCANCODE | done (codeUrl, expireTime)
//	Query                | 1.5.2.2 | TRANS_QUERY                           | done (unknown order: pos.NotFound)
//	Refund               | 1.5.2.3 | <wallet>_RETURN                       | done (partial; never above original)
//	QueryRefund          | 1.5.2.2 | TRANS_QUERY of the refund's number    | done (see below)
//	Reverse              | 1.5.2.4 | <wallet>_CANCEL, then CLOSE_ORDER     | done (see below)
//	Close                | 1.5.2.5 | CLOSE_ORDER                           | done
//	ParseNotification    | 1.5.2.6 | (platform POSTs; answer SUCCESS)      | done
//	DownloadBill         | 1.5.3.1 | DOWNLOAD_CHECK_BILL (base64 CSV)      | done (typed Bill, BillRecord)
//
// Status: returnCode first (anything but 0000: refused), then resultCode:
// 0000 success; P000 and 9997 processing (StatusUserPaying); other codes
// failures with the platform's message, except where reading them as
// "nothing happened" would be unsafe (status.go lists them: on a payment,
// 0022 order exists, 0074 already paid, 9999 unknown mistake are Unknown;
// on a query, codes that refuse the query itself are Unknown and 0007/0025
// are pos.NotFound; 0051/0058 "processing" are UserPaying everywhere).
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
//     form encoding or, equally, a flat JSON object. Signatures are over
//     the decoded values: the example signs "notifyUrl=http://...".
//   - signType in the signed text. "all the non-null fields ... except
//     signing fields" could exclude signType; the example is damaged where
//     it would show. signType is signed; only signature is left out.
//   - Signature encoding: base64 (standard, padded), as the Java demos the
//     spec mentions produce; whitespace in a received one is ignored.
//   - Lengths. "ANx32", "AN 20", "N12" are all read as maxima (version is
//     ANSx6 with the value V1.0). §1.5.1.3 counts a Chinese character as 2
//     bytes; we count UTF-8 bytes (3), which is never less, so what we
//     send passes either count. Damaged lengths: notifyUrl "ANSx2" is
//     taken as 256 (the other tables' value), authCode "ANSx1" as 128.
//   - Character classes. AN admits '_' and '-' (the spec's own AN
//     transType values contain '_'); the S classes admit any printable
//     character; N and A are strict.
//   - accessCode is described as "8-digit" but the example has 12 digits:
//     only the AN 20 rule is checked.
//   - terminalId is not in the request table but is in the signing
//     example; it is sent when configured (AN..20 assumed).
//   - goodsSubject appears only in the example, with no definition;
//     MicropayRequest.Description is therefore not sent.
//   - expireTime is in minutes (default 30, PayNow 3): CreateQR sends the
//     minutes until Expires, rounded up, or QRTimeout's. PayNow codes may
//     expire sooner whatever is sent.
//   - Void. §1.5.2.4 allows only successful transactions of the same day.
//     gateways.Reverser must take back a payment whatever its state, so
//     Reverse voids, and when the void finds the order not paid (0026,
//     0032) or unknown (0025) it sends CLOSE_ORDER instead; for an order
//     of an earlier day (OrderRef.SubmittedAt, platform time UTC+8) it
//     closes straight away. A paid order of an earlier day cannot be
//     reversed (close answers 0038): Failed, and it needs a refund. An
//     order neither void nor close finds is pos.NotFound: OATS keeps no
//     record of a cancel, so a late submit could still land.
//   - The void and close requests carry an outTransNo of their own; a fresh
//     one is used per attempt ("V"/"C" + time + digits), and a repeat is
//     recognised by its code (0029 voided, 0039 closed), which is Succeeded.
//   - Close is documented for WeChat Pay and Alipay QR orders; it is sent
//     for every wallet and the platform's answer decides.
//   - Refunds. OutRefundNo is the refund's outTransNo, so a retried refund
//     is recognised (0022: Unknown, query it). There is no refund query:
//     QueryRefund asks TRANS_QUERY about the refund's own number. A refund
//     above the original amount is answered Failed without sending.
//   - Query answers have no outTransNo and their transType may be the
//     query's; the wallet falls back to OrderRef.Wallet.
//   - Every answer must echo our requestNo (it is mandatory in every
//     response table); one that does not is not the answer to this request
//     and is Unknown, which also defeats replay of an old signed answer.
//   - Notifications have no returnCode and no id. resultCode is read as a
//     query's; a notification without one is Unknown, not paid. The ID is
//     outTransNo:transNo:resultCode, the same for every resend. One for
//     another mchNo is refused.
//   - DOWNLOAD_CHECK_BILL has no mchNo in its table and none is sent. The
//     bill URL differs from the transaction URL (§1.6.4); BillEndpoint is
//     derived from Endpoint when not set. The CSV has no documented
//     header (one is tolerated); amounts are decimals "as per ISO currency
//     decimal" and may be negative; the summary's amounts are read in its
//     settlement currency, a detail's fee in the settlement currency and
//     its total and discount in the transaction currency.
//   - payTime is "time of the system": read as UTC+8, the platform's zone.
//   - At least 10 s between queries (§1.5.2.2) is Timing.MinPollInterval
//     and the minimum PollInterval, except with Options.Simulated.
package allinpay
