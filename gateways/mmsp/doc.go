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
// # Status mapping
//
// As §3.1 says: RetCode first, then the business STATUS, then ERR_CODE.
//   - Transport: not sent → pos.Unavailable; sent without a complete 2xx
//     answer → pos.Unknown (gateways.Do).
//   - Trust: an answer that is not JSON, has a wrong or missing Sign, a
//     CommandID other than request+0x8000, another merchant/terminal, another
//     MERORDERID or a different AMT is a pos.Unknown error: never trusted,
//     never Failed.
//   - Negative answer (32768): "[-2002] 没有该订单" → pos.NotFound (query,
//     reverse, close, refund). For micropay, QR and refund only, RetCode 0
//     (消息结构体错误), 1006 (签名错误), 39999 (支付失败) and "[-3005]"
//     (金额不符) → StatusFailed: the platform refused the message, nothing
//     was processed. 1008 (流水号重复) and everything else → StatusUnknown.
//   - Typed answer: RetCode 1 (or 0, see below) then STATUS 1 → Succeeded
//     (for a new QR order: UserPaying with CodeURL), 2 → Failed with
//     ERR_CODE_MSG as Reason, 3 (ERR_CODE AA) → UserPaying; any other
//     STATUS or RetCode → StatusUnknown.
//
// # Ambiguities met, and the choice made
//
//   - QQ micropay command. The table lists 0x0308 (776) with answer 0x8916
//     (35094), against the rule answer = request + 0x8000, and 776 is also
//     the quick-pay card-binding query. Options.QQMicropayCommand (default
//     776); an answer of 35094 or command+0x8000 is accepted for it.
//   - Slashes in the signed text. §3.3.1 says URLs must have their slashes
//     escaped (json_encode's "\/"; the backslashes were lost in extraction),
//     and the FAQ says every "\" is replaced by "/" before signing (only for
//     signing, not in what is sent). Read together, "http://a/b" is signed
//     as "http:////a//b". That literal reading is the default (SlashFAQ);
//     Options.SignSlashes offers "escaped" and "plain" should the production
//     platform disagree. The body on the wire is PHP-style: "\/" escapes,
//     UTF-8 Chinese (中文不需要转码).
//   - Numbers. FAQ 3 warns that quoting numbers changes the signature. Every
//     field posagent sends is a JSON string (AMT "100", the tables type them
//     string(n)); received Bodies are verified with their own types kept
//     (the notification's AMT is typed int and may come unquoted).
//   - Sorting. "A–Z" / "按ASCII排序": top-level Body keys by byte order
//     (ERR_CODE before ERR_CODE_MSG); nested values keep their order.
//   - RetCode. §11 lists 1 = success and 0 = 消息结构体错误, but the
//     section's own success example carries RetCode 0. A signed answer with
//     the right CommandID and RetCode 0 or 1 is read by its STATUS; a real
//     structure error comes as the negative answer.
//   - Negative answers are unsigned by the spec, so they are the one answer
//     not verified; the only definite conclusions drawn from them are
//     NotFound and "refused before processing" for submits (listed above).
//   - Reverse timing. §10.4 advises at least 15 s between payment and
//     reverse. Timing.ReverseAfter declares 15 s and the flows respect it;
//     the adapter itself sends whatever it is asked to.
//   - Query by MERORDERID only: the spec wants ORDERNO or MERORDERID, and
//     ours is journaled before the submit, so it works after a lost answer.
//   - Refund STATUS 1 is 受理成功 (accepted); there is no later refund state
//     in the spec, so it is reported Succeeded.
//   - Header. NodeType 3 and NodeID "openplat" (defaults in §3.1; the note
//     for tills is truncated in the source), Version "1.0.0", SeqID counts
//     up per client. AGENTNO is sent only in agency mode (Options.AgentNo);
//     then Key is the agency's key, which the spec says takes priority.
//   - Time: TIME_END and the answers' times are Beijing time (UTC+8).
//   - Limits: MERORDERID and REFUND_MERORDERID at most 20 characters,
//     GOODSNAME cut to 15 characters, RANDSTR 14 characters (the tables say
//     string(15) and "no longer than 20"), NOTIFY_URL at most 100 (50 for QR
//     orders), CODE at most 32.
//   - Notifications carry no ID; Notification.ID is "mmsp:" + ORDERNO +
//     ":" + STATUS, stable across the platform's resends (0, 15, 15, 30,
//     180, 1800… s until it reads SUCCESS).
//   - Worked examples. The scan-code section's example signatures are
//     placeholders ("ADSFADSFDDFSASDF"); the quick-pay example is signed
//     with an unpublished merchant key and its 签名原文 is truncated, so no
//     example in the document can be reproduced. The signing tests use
//     vectors computed independently (Python hashlib) over the §12 test key.
package mmsp
