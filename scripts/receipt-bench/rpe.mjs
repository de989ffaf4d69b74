// Times @point-of-sale/receipt-printer-encoder on the standard payment
// receipt (logo, bilingual text, QR code of the 28-digit transaction
// number), and prints nanoseconds per receipt. Its qrcode() sends GS ( k:
// the printer draws the symbol, so posagent's side of this comparison is
// its native QR too. It has no Chinese code page: the text goes through
// raw() as GB18030 bytes (iconv-lite), padded to the columns by display
// width here, as a caller of it would have to. The logo is decoded once
// (pngjs) and thresholded by image() on every receipt, as posagent
// thresholds its logo on every receipt.
// Usage: node rpe.mjs LOGO.png [N]
import { readFileSync } from 'node:fs';
import ReceiptPrinterEncoder from '@point-of-sale/receipt-printer-encoder';
import iconv from 'iconv-lite';
import { PNG } from 'pngjs';

const png = PNG.sync.read(readFileSync(process.argv[2]));
const logo = { data: new Uint8ClampedArray(png.data), width: png.width, height: png.height };
const n = Number(process.argv[3] || 1000);
const txn = (i) => '42000023452025031' + String(10000000000 + i).slice(-11);
const cols = 48;
const width = (s) => [...s].reduce((w, c) => w + (c.codePointAt(0) > 0x2e7f ? 2 : 1), 0);
const gb = (s) => iconv.encode(s, 'gb18030');
const pair = (l, r) => l + ' '.repeat(Math.max(1, cols - width(l) - width(r))) + r;
const logoW = Math.min(576, logo.width) & ~7;
const logoH = Math.max(8, Math.round(logoW * logo.height / logo.width / 8) * 8);

function once(i) {
  const e = new ReceiptPrinterEncoder({ language: 'esc-pos', columns: cols, imageMode: 'raster' });
  e.initialize().align('center').image(logo, logoW, logoH, 'threshold');
  e.size(2, 2).bold(true).raw(gb('Lucky Noodle 好运面馆')).newline().size(1, 1).bold(false);
  e.raw(gb('88 Nanjing Rd, Shanghai')).newline().raw(gb('Tel 021-5555 0188')).newline();
  e.align('left').raw(gb('-'.repeat(cols))).newline();
  e.align('center').size(2, 2).raw(gb('PAYMENT 支付凭证')).newline().size(1, 1).align('left');
  e.raw(gb(pair('Store 门店', 'SH-001 上海南京路店'))).newline();
  e.raw(gb(pair('Terminal 终端', 'till-02'))).newline();
  e.align('center').raw(gb('CUSTOMER COPY 顾客存根')).newline().align('left');
  e.raw(gb('-'.repeat(cols))).newline();
  e.raw(gb('Amount 金额')).newline().align('right').size(3, 3).raw(gb('CNY 123.45')).newline().size(1, 1).align('left');
  e.raw(gb('-'.repeat(cols))).newline();
  e.raw(gb(pair('Time 时间', '2025-03-14 12:34:56'))).newline();
  e.raw(gb(pair('Wallet 支付方式', 'WeChat Pay'))).newline();
  e.raw(gb(pair('Code 付款码', '13************6789'))).newline();
  e.raw(gb(pair('Txn No. 交易单号', txn(i)))).newline();
  e.raw(gb(pair('Order No. 商户单号', 'PA20250314123456000042'))).newline();
  e.bold(true).raw(gb(pair('State 状态', 'PAID 支付成功'))).newline().bold(false);
  e.newline().align('center').qrcode(txn(i), 2, 6, 'm').newline();
  e.raw(gb('Thank you! 谢谢惠顾')).newline().raw(gb('Returns within 7 days with receipt')).newline();
  e.align('left').raw(gb('='.repeat(cols))).newline();
  return e.encode();
}

const out = once(0);
if (out.length < 1000) throw new Error('receipt-printer-encoder produced only ' + out.length + ' bytes');
for (let i = 0; i < 200; i++) once(i); // warm up the JIT
const start = process.hrtime.bigint();
for (let i = 0; i < n; i++) once(1000 + i);
const ns = Number(process.hrtime.bigint() - start) / n;
console.log(JSON.stringify({ tool: '@point-of-sale/receipt-printer-encoder', version: '4.0.1', qr: 'native', bytes: out.length, ns_per_op: Math.round(ns) }));
