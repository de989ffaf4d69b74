// Reads a JSON array of jobs on stdin and prints, for each, the bytes
// @point-of-sale/receipt-printer-encoder emits for the same command, as
// {"id": ..., "hex": "..."} or {"id": ..., "error": "..."} lines.
// Driven by TestCrosscheck in hw/printer/escpos (POSAGENT_CROSSCHECK=1).
import ReceiptPrinterEncoder from '@point-of-sale/receipt-printer-encoder';

const jobs = JSON.parse(await new Promise((ok) => {
  let s = '';
  process.stdin.on('data', (d) => (s += d));
  process.stdin.on('end', () => ok(s));
}));

const encoder = () => new ReceiptPrinterEncoder({ language: 'esc-pos', columns: 48, imageMode: 'raster', autoFlush: false });
const levels = { 48: 'l', 49: 'm', 50: 'q', 51: 'h' };

// image turns GS v 0 rows (hex, MSB first, 1 = black) into RGBA.
function image(width, height, hex) {
  const bytes = Buffer.from(hex, 'hex');
  const stride = width / 8;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const black = (bytes[y * stride + (x >> 3)] >> (7 - (x & 7))) & 1;
      const v = black ? 0 : 255;
      data.set([v, v, v, 255], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

const ops = {
  initialize: (e) => e.initialize(),
  bold: (e) => e.bold(true).text('x').bold(false),
  underline: (e) => e.underline(true).text('x').underline(false),
  size: (e, j) => e.size(j.w, j.h).text('x').size(1, 1),
  qr: (e, j) => e.qrcode(j.data, { model: 2, size: j.size, errorlevel: levels[j.level] }),
  raster: (e, j) => e.image(image(j.width, j.height, j.bits), j.width, j.height, 'threshold'),
  alignImage: (e, j) => e.align(j.align).image(image(8, 8, '00'.repeat(8)), 8, 8, 'threshold'),
  cut: (e, j) => e.cut(j.partial ? 'partial' : 'full'),
  pulse: (e) => e.pulse(0, 50, 500),
  codepage: (e, j) => e.codepage(j.name).text(j.text),
  barcode: (e, j) => e.barcode(j.data, 'code128', { height: j.height, width: j.width, text: j.hri }),
};

for (const j of jobs) {
  try {
    const b = ops[j.op](encoder(), j).encode();
    console.log(JSON.stringify({ id: j.id, hex: Buffer.from(b).toString('hex') }));
  } catch (err) {
    console.log(JSON.stringify({ id: j.id, error: String(err.message || err) }));
  }
}
