// Times receiptline transforming the standard payment receipt (the one
// BenchmarkEncodePaymentReceipt encodes: logo, bilingual text, QR code) to
// ESC/POS, and prints nanoseconds per receipt. Usage: node bench.mjs LOGO.png
import { readFileSync } from 'node:fs';
import receiptline from 'receiptline';

const logo = readFileSync(process.argv[2]).toString('base64');
const doc = `{i:${logo}}
^^^"Lucky Noodle 好运面馆"
88 Nanjing Rd, Shanghai
Tel 021-5555 0188
-
^^"PAYMENT 支付凭证"
|Store 门店 | SH-001 上海南京路店|
|Terminal 终端 | till-02|
CUSTOMER COPY 顾客存根
-
|Amount 金额
|^^^"CNY 123.45"|
-
|Time 时间 | 2025-03-14 12:34:56|
|Wallet 支付方式 | WeChat Pay|
|Code 付款码 | 13************6789|
|Txn No. 交易单号 | 4200002345202503141234567890|
|Order No. 商户单号 | PA20250314123456000042|
|"State 状态 | "PAID 支付成功|

{c:4200002345202503141234567890;o:qrcode,6,m}

Thank you! 谢谢惠顾
Returns within 7 days with receipt
=
`;
const printer = { cpl: 48, encoding: 'gb18030', command: 'escpos', gradient: false };

const once = () => receiptline.transform(doc, printer);
const out = once();
if (out.length < 1000) throw new Error('receiptline produced only ' + out.length + ' bytes');
for (let i = 0; i < 200; i++) once(); // warm up the JIT
const n = 2000;
const start = process.hrtime.bigint();
for (let i = 0; i < n; i++) once();
const ns = Number(process.hrtime.bigint() - start) / n;
console.log(JSON.stringify({ tool: 'receiptline', bytes: out.length, ns_per_op: Math.round(ns) }));
