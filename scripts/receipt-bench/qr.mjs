// Times node `qrcode` drawing the customer display's merchant QR as a PNG
// buffer: level M, 10 pixels a module, a quiet zone of 4 modules (the same
// 370×370 image posagent's web display serves), new data every time (each
// payment has its own code). Prints nanoseconds per image.
// Usage: node qr.mjs [N]
import QRCode from 'qrcode';

const n = Number(process.argv[2] || 300);
const data = (i) => 'weixin://wxpay/bizpayurl?pr=' + String(1000000 + (i % 9000000)).padStart(7, '0');
const once = (i) => QRCode.toBuffer(data(i), { errorCorrectionLevel: 'M', scale: 10, margin: 4, type: 'png' });

const first = await once(0);
if (first.readUInt32BE(16) !== 370) throw new Error('qrcode drew ' + first.readUInt32BE(16) + ' px, want 370');
for (let i = 0; i < 50; i++) await once(i); // warm up the JIT
const start = process.hrtime.bigint();
for (let i = 0; i < n; i++) await once(i + 100);
const ns = Number(process.hrtime.bigint() - start) / n;
console.log(JSON.stringify({ tool: 'node qrcode', version: '1.5.4', px: 370, bytes: first.length, ns_per_op: Math.round(ns) }));
