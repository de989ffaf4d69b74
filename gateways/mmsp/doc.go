// Package mmsp is the gateway adapter for the MMSP open platform's
// scan-code interface (扫码接口规范 in shared/specs/mmsp-openplat-zh.txt; the
// 代付, 快捷 and 网关 parts of that document are out of scope). It registers
// as kind "mmsp"; gateways/mmsp/mmspsim is its simulator.
//
// # Operations
//
//	operation              | spec section        | wire command (answer)           | status
//	-----------------------+---------------------+---------------------------------+-------------------------------
//	micropay WeChat        | §5.2 微信刷卡支付     | 2307 0x0903 (35075)             | done
//	micropay Alipay        | §6.2 支付宝刷卡支付   | 2309 0x0905 (35077)             | done
//	micropay QQ Wallet     | §7.2 QQ刷卡支付      | 776 0x0308 (35094), configurable | done, see ambiguities
//	merchant QR WeChat     | §5.1 正扫下预订单     | 2306 0x0902 (35074)             | done, TRADETYPE=1
//	merchant QR Alipay     | §6.1 / §6.3 / §6.4  | 2308 / 1026 / 1027 (+0x8000)     | done, Options.AlipayQR picks
//	merchant QR QQ Wallet  | §7.1                | 2325 0x0915 (35093)             | done
//	merchant QR UnionPay   | §9.1 银联钱包正扫     | 1025 0x0401 (33793)             | done
//	merchant QR JD Pay     | §8.1 京东正扫         | 1031 0x0407 (33799)             | done
//	query                  | §10.3 查询订单        | 2310 0x0906 (35078)             | done
//	reverse 撤销            | §10.4 撤销订单        | 2311 0x0907 (35079)             | done, Timing.ReverseAfter 15 s
//	close                  | §10.5 关闭订单        | 2314 0x090A (35082)             | done
//	refund (partial)       | §10.6 退款           | 2312 0x0908 (35080)             | done
//	refund query           | §10.7 退款查询订单    | 2313 0x0909 (35081)             | done
//	notification           | §10.8 支付结果通知    | 2324 0x0914, ack "SUCCESS"       | done (Notifier)
//	negative answer        | §3.1, §3.2.1        | 32768 0x8000 (unsigned)         | mapped, see below
//	H5, 公众号, 服务窗        | §5.3, §6.5, §10.1-2 | 2321, 1030, TRADETYPE=2          | out of scope (not till flows)
//
// # Outcome tables
//
// Every outcome comes from Outcomes (outcome.go): per operation, each code
// the spec lists, its gateways.Status and the section that lists it. A
// code that is not in the operation's table is StatusUnknown, never Failed
// and never Succeeded. TestOutcomeTablesCoverTheSpec reads the spec file
// (shared/specs beside the repository) and fails when a STATUS value, a
// §11 header or body code, a negative-answer example's RetCode or a
// "[-N]" sub-code of the document has no row.
//
//	operation (commands)             | code                      | outcome                    | spec
//	---------------------------------+---------------------------+----------------------------+---------------------------
//	every answer                     | RetCode 1 / RetCode 0     | read the Body              | §11 / §3.1 success example
//	                                 | no RetCode, other RetCode | Unknown                    | §3.1 应答包必须带有该字段
//	                                 | ERR_CODE 00 / AA / D4     | must agree with STATUS 1/3/2, else Unknown | §11 包体错误码列表
//	pay (2307 2309 776)              | STATUS 1 / 2 / 3          | Succeeded / Failed / UserPaying | §5.2.3 §6.2.3 §7.2.3
//	                                 | 32768 [-1001] [-1002] [-1006] [-1007] [-3005] | Failed (refused unread) | 代付 §6.2, 常见问题
//	                                 | 32768 RetCode 39999 / 0, [-1008], [-2002], any other | Unknown (query; 撤销 at the deadline) | §3.1, §11, 快捷 §3.1
//	QR create (2306 2308 2325 1025 1026 1027 1031) | STATUS 1 (with URL) / 2 | UserPaying / Failed | §5.1.3 §6.1.2 §6.3.2 §6.4.2 §7.1.2 §8.1.2 §9.1.2
//	                                 | STATUS 1 without URL      | Unknown                    | URL 必须
//	                                 | 32768 listed, except [-1008] | Failed: no URL was issued, nobody can pay | §3.1, §11, 代付 §6.2
//	query (2310)                     | STATUS 1 / 2 / 3          | Succeeded / Failed / UserPaying | §10.3.2
//	                                 | 32768 [-2002]             | pos.NotFound               | 快捷 §3.1
//	reverse 撤销 (2311)               | STATUS 1 / 2              | Succeeded / Failed (flows query) | §10.4.2
//	close (2314)                     | STATUS 1 / 2              | Succeeded / Failed (flows query) | §10.5.2
//	refund (2312)                    | STATUS 1 受理成功 / 2      | UserPaying (processing) / Failed | §10.6.2
//	                                 | 32768 refusals as pay     | Failed                     | 代付 §6.2, 常见问题
//	refund query (2313)              | STATUS 1 受理成功 / 2      | UserPaying until RefundSettle after REFUND_TIME, then Succeeded / Failed | §10.7.2
//	notification (2324)              | STATUS 1                  | Succeeded                  | §10.8
//	reverse, close, refund query     | 32768 [-2002]; others     | pos.NotFound; Unknown      | 快捷 §3.1
//
// Trust, before any table is read:
//   - Transport: not sent → pos.Unavailable; sent without a complete 2xx
//     answer (or a redirect) → pos.Unknown (gateways.Do).
//   - An answer that is not JSON, has a wrong or missing Sign, or a
//     CommandID other than request+0x8000 (QQ micropay: only
//     Options.QQMicropayAnswer, default 35094) is a pos.Unknown error.
//   - A typed answer must carry MERNO and TERMNO, and MERORDERID on every
//     pay, QR, query, 撤销 and close answer (必须); 2310 must carry AMT
//     (必须); refund answers REFUND_MERORDERID. Missing: Unknown.
//   - Another merchant, terminal, order, refund or amount: StatusUnknown
//     with Result.Mismatch (an alert for the flows; never adopted).
//   - Every Result names what the answer is about (OutTradeNo, Amount,
//     OutRefundNo, RefundAmount) for the flows to check with the journal.
//
// # Ambiguities met, and the choice made
//
//   - QQ micropay command. The table lists 0x0308 (776) with answer 0x8916
//     (35094), against the rule answer = request + 0x8000, and 776 is also
//     the quick-pay card-binding query (answer 33544, §5.8.3 of that part:
//     STATUS 1 and no MERORDERID). Options.QQMicropayCommand (default 776)
//     and Options.QQMicropayAnswer (default 35094) are configurable; only
//     the configured answer is accepted, never 776+0x8000 by default.
//   - Slashes in the signed text. §3.3.2.1 says: sort the Body, json_encode
//     it (中文不需要转码, URL slashes escaped: "\/"; the backslashes of its
//     example were lost in extraction) and MD5 that with "&key=" and the
//     key. The default (SlashEscaped) signs exactly the bytes sent. The
//     FAQ's damaged line "参数内\是否替换成/后签名" (replace "\" by "/" for
//     signing only) is Options.SignSlashes "faq"; "plain" signs "/"
//     unescaped. Settle it with one signed sample from the §12 test
//     merchant before go-live; the example config says so.
//   - Numbers. FAQ 3 warns that quoting numbers changes the signature. Every
//     field posagent sends is a JSON string (AMT "100", the tables type them
//     string(n)); received Bodies are verified with their own types kept
//     (the notification's AMT is typed int and may come unquoted).
//   - Sorting. "A–Z" / "按ASCII排序": top-level Body keys by byte order
//     (ERR_CODE before ERR_CODE_MSG); nested values keep their order.
//   - RetCode. §11 lists 1 = success and 0 = 消息结构体错误, but §3.1's
//     success example carries RetCode 0 on a signed, typed answer. A typed
//     answer with RetCode 0 or 1 is read by its STATUS; one without RetCode
//     is Unknown (应答包必须带有该字段).
//   - Negative answers (M1). They are unsigned (§3.1) and RetCode 0 is the
//     platform's generic negative code (the quick-pay example carries
//     "[-2002] 没有该订单" under RetCode 0), so they are read by their
//     sub-code. The scan-code part lists no sub-codes; the refusals that
//     prove the message was refused before processing are the platform's
//     numbered checks of the 代付 §6.2 返回码 table (1001 参数错误, 1002
//     商户, 1006 签名错误, 1007 版本号错误) and the FAQ's [-3005] 交易金额不符.
//     Only those are Failed, and only for pay, QR create and refund, where
//     Failed means nothing moved. 39999 支付失败 (§3.1's example), RetCode 0
//     without a sub-code, [-1008] and everything else are Unknown for pay
//     and refund: the flows query, and 撤销 at the deadline.
//   - QR create refused (negative answer): Failed, because no URL reached
//     the customer (URL is the only way to pay, §5.1.3); a duplicate number
//     is Unknown, the earlier order may be displayed.
//   - A failed QR order (M9). 2310 STATUS 2 on a merchant-QR order is
//     Failed by the table, but the order stays payable until TIME_END
//     (§5.1.2 "不传默认5分钟订单失效"). Capabilities.Close is true for every
//     QR wallet (2314 names no exception), so the flows close it (issue 8,
//     the flows' part) and a success met on the way wins.
//   - Refunds (M5). 2312 and 2313 STATUS 1 is 受理成功 (accepted), and 2313
//     can still say 2 退款失败. 2312's 受理成功 is Processing; 2313's is
//     Processing until Options.RefundSettle (default 2 minutes) has passed
//     since its REFUND_TIME, then Succeeded: the spec has no later state,
//     and a refund the platform still calls accepted after that is taken
//     as done. 2313 without REFUND_TIME stays Processing.
//   - Merchant certificate (M8). §3.1 证书要求: "调用申请退款、撤销订单接口需要
//     商户证书". The document says nothing else about it; it is taken as a
//     TLS client certificate (Options.ClientCertFile, ClientKeyFile, PEM),
//     presented on every connection to the endpoint since all commands
//     share one URL. A real endpoint without one is allowed (the operator
//     may have none) but logged at start.
//   - Reverse timing (M6, M7). §10.4 advises at least 15 s between payment
//     and 撤销: Timing.ReverseAfter 15 s, and CallTimeout defaults to 10 s
//     so a timed-out pay still leaves the gap. Timing from the pay's answer
//     and QQ Wallet's longer minimum are the flows' (issue 8, per-wallet
//     timing); the MMSP spec itself names no QQ rule.
//   - Query by MERORDERID only: the spec wants ORDERNO or MERORDERID, and
//     ours is journaled before the submit, so it works after a lost answer.
//   - Header. NodeType 3 and NodeID "openplat" (defaults in §3.1; the note
//     for tills is truncated in the source), Version "1.0.0", SeqID counts
//     up per client. AGENTNO is sent only in agency mode (Options.AgentNo);
//     then Key is the agency's key, which the spec says takes priority.
//   - Time: TIME_END and the answers' times are Beijing time (UTC+8).
//   - Limits, checked by New (so `serve --check` finds them): MERNO 15,
//     TERMNO 8, AGENTNO 15 (the header table says string(8) but §3.1's
//     example carries 15 digits), NodeID 20, IP 18, NOTIFY_URL 50 (the QR
//     commands' string(50); micropay allows 100), goods_name 15 bytes.
//     Per request: MERORDERID and REFUND_MERORDERID at most 20, CODE 32,
//     RANDSTR 14 characters (string(15) in §10.3, "no longer than 20"
//     elsewhere). GOODSNAME is string(15) "长度限制 1~15个字符串": characters
//     or bytes is not said (M10); descriptions are cut to 15 bytes on a
//     character boundary, which satisfies both readings.
//   - LIMIT_PAY is sent (Options.LimitCredit) only on 2306, 2307, 2308,
//     2309, 2325 and 776, whose tables list it (M10).
//   - NOTIFY_URL. Every payment table marks it 必须, but a till may rely on
//     polling alone: with Options.NotifyURL empty it is left out and the
//     adapter declares no notifications. A platform that insists refuses
//     with [-1001] 参数错误, a refusal before processing (Failed at once).
//   - Notifications carry no ID; Notification.ID is "mmsp:" + ORDERNO +
//     ":" + STATUS, stable across the platform's resends (0, 15, 15, 30,
//     180, 1800… s until it reads SUCCESS). AMT (必须) fills Result.Amount
//     for the flows to compare with the order (M4); another MERNO or
//     TERMNO is a Mismatch.
//   - Worked examples. The scan-code section's example signatures are
//     placeholders ("ADSFADSFDDFSASDF"); the quick-pay example is signed
//     with an unpublished merchant key and its 签名原文 is truncated, so no
//     example in the document can be reproduced. The signing tests use
//     vectors computed independently (Python hashlib, md5sum) over the §12
//     test key, and TestWireFields checks each request's Sign with
//     crypto/md5 over the Body bytes as sent.
//
// # The simulator, a second reading, and where the readings differ
//
// gateways/mmsp/mmspsim is written from the spec and imports nothing of
// this package (TestSimulatorIsASecondReading runs go list -deps): its
// own json_encode, signing, parsing, request tables and answer tables. It
// lists, per call, every answer the spec documents with the truths that
// may lie behind it (mmspsim.Server.Answers), and TestTruth runs the truth
// check (flows/truthtest) over all of them. Where the readings differ:
//   - NOTIFY_URL: the simulator refuses a payment without it (必须 in
//     every table); the adapter leaves it out when notifications are not
//     used. Kept: polling alone is a supported till setup, and the refusal
//     is [-1001], Failed at once with the reason; every simulated and
//     example setup sets notify_url.
//   - GOODSNAME: the simulator counts characters ("1~15个字符串"), the
//     adapter cuts to 15 bytes. Kept: the adapter's cut satisfies both.
//   - RANDSTR: §10.3.1-§10.7.1 say string(15) beside "不长于20位"; the
//     simulator enforces 15, the adapter sends 14 characters everywhere.
//   - 2313 受理成功: the simulator answers STATUS 1 for a refund accepted or
//     executed alike (the spec has nothing else to say); the adapter waits
//     RefundSettle before believing it final, so a later 退款失败 is seen.
//   - QR create refused: the simulator's truth for every refusal is "not
//     charged" (no URL, nobody can pay), which is the adapter's Failed.
//   - "[-2002] 没有该订单" to 2313: the simulator allows either truth
//     (unsigned); the adapter reports pos.NotFound, and the flows free the
//     refund's amount once NotFoundAfter has passed. The truth check lists
//     that cell, and a failed QR order that is paid later, as known
//     failures of the flows (issue 8, core): TestTruth's knownTruthFailures.
//
// # Audit findings M1–M10 (reviews/2026-12-01/audit-mmsp-swiftpass.md)
//
//   - M1 negative answers: fixed; by sub-code, Unknown for pay and refund
//     except refusals before processing (TestStatusMapping, TestRefundMapping).
//   - M2 QQ answer 33544 and missing MERORDERID: fixed (TestQQAnswer).
//   - M3 signing text: fixed, json_encode as sent is the default; the
//     FAQ's reading is sign_slashes: faq (TestWireFields, TestSignVectors,
//     the example config).
//   - M4 notification amount and terminal: the adapter fills OutTradeNo and
//     Amount and reports another merchant or terminal as a Mismatch; the
//     flows compare the amount with the journal (TestNotification).
//   - M5 refund 受理成功: fixed, Processing until 2313 settles it
//     (TestRefundMapping; the truth check's refund cells).
//   - M6 15 s before 撤销 timed from before the call: CallTimeout now
//     defaults to 10 s, below ReverseAfter, and New refuses a call_timeout
//     at or above reverse_after for a real endpoint; timing from the
//     answer is the flows' (issue 8, core).
//   - M7 QQ 5-minute reverse rule: not in the MMSP spec; per-wallet timing
//     is the flows' (issue 8, core). Until then pay_timeout and
//     reverse_after are configurable.
//   - M8 merchant certificate: client_cert_file / client_key_file
//     (TestMerchantCertificate); logged when absent for a real endpoint.
//   - M9 failed QR order: STATUS 2 stays Failed and Capabilities.Close is
//     true for every QR wallet; closing it is the flows' (issue 8, core;
//     a known failure of TestTruth until then).
//   - M10: GOODSNAME 15 bytes, LIMIT_PAY only where listed, AGENTNO 15, a
//     typed answer without RetCode Unknown (TestWireFields,
//     TestNewValidates, TestStatusMapping).
package mmsp
