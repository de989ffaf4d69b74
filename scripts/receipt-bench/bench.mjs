// Times receiptline transforming the standard payment receipt (the one
// posagent's bench encodes: logo, bilingual text, QR code of the 28-digit
// transaction number) to ESC/POS, and prints nanoseconds per receipt.
// receiptline always draws the QR code itself and sends it as a raster
// image, so posagent's side of this comparison is its raster QR too. Each
// receipt has its own transaction number, as each payment has, so neither
// side can reuse a QR symbol across receipts.
// Usage: node bench.mjs LOGO.png [N]
import { readFileSync } from 'node:fs';
import receiptline from 'receiptline';

const logo = readFileSync(process.argv[2]).toString('base64');
const n = Number(process.argv[3] || 1000);
const txn = (i) => '42000023452025031' + String(10000000000 + i).slice(-11);
const doc = (i) => `{i:${logo}}
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
{w:*,28}
|Txn No. 交易单号 | ${txn(i)}|
{w:auto}
|Order No. 商户单号 | PA20250314123456000042|
|"State 状态 | "PAID 支付成功|

{c:${txn(i)};o:qrcode,6,m}

Thank you! 谢谢惠顾
Returns within 7 days with receipt
=
`;
const printer = { cpl: 48, encoding: 'gb18030', command: 'escpos', gradient: false };

const once = (i) => receiptline.transform(doc(i), printer);
const out = once(0);
if (out.length < 1000) throw new Error('receiptline produced only ' + out.length + ' bytes');
for (let i = 0; i < 200; i++) once(i); // warm up the JIT
const start = process.hrtime.bigint();
for (let i = 0; i < n; i++) once(1000 + i);
const ns = Number(process.hrtime.bigint() - start) / n;
console.log(JSON.stringify({ tool: 'receiptline', version: '4.0.4', qr: 'raster', bytes: out.length, ns_per_op: Math.round(ns) }));
