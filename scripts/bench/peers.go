package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"time"

	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/escpos"
	"github.com/posagent/posagent/hw/printer/printertest"
	"github.com/posagent/posagent/hw/qr"
)

// nodeRun runs a node script of the peers' directory and decodes its one
// JSON line.
func nodeRun(dir, script string, args ...string) (map[string]any, error) {
	cmd := exec.Command("node", append([]string{script}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return nil, fmt.Errorf("node %s: %v: %s", script, err, ee.Stderr)
		}
		return nil, fmt.Errorf("node %s: %w", script, err)
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("node %s printed %q: %w", script, out, err)
	}
	return v, nil
}

// displayData is a merchant QR payload of the display's usual length, new
// for every i (as every payment's code is).
func displayData(i int) string {
	return fmt.Sprintf("weixin://wxpay/bizpayurl?pr=%07d", 1000000+i%9000000)
}

// runQRPNG: the web display's QR PNG (hw/qr: encode, then the 1-bit PNG
// written directly; what webdisplay's encodeQR does) against node qrcode's
// toBuffer at the same size (370×370: level M, 10 px a module, quiet zone
// 4), new data every image on both sides; rounds alternate the sides.
func runQRPNG(args []string) error {
	fs := flag.NewFlagSet("qrpng", flag.ExitOnError)
	rounds := fs.Int("rounds", 7, "rounds")
	n := fs.Int("n", 300, "images per side per round")
	node := fs.String("node", "scripts/receipt-bench", "directory with the npm peers installed")
	fs.Parse(args)
	seq := 0
	goSide := func() (float64, int, error) {
		var size int
		for range 20 { // warm up
			seq++
			s, _ := qr.Encode(displayData(seq), qr.M)
			qr.PNG(s, 10, 4)
		}
		start := time.Now()
		for range *n {
			seq++
			s, err := qr.Encode(displayData(seq), qr.M)
			if err != nil {
				return 0, 0, err
			}
			b, err := qr.PNG(s, 10, 4)
			if err != nil {
				return 0, 0, err
			}
			size = len(b)
		}
		return float64(time.Since(start).Nanoseconds()) / float64(*n), size, nil
	}
	var ours, theirs, ratio []float64
	var bytesOurs int
	for r := range *rounds {
		var o, t float64
		for k := range 2 {
			if (k+r)%2 == 0 {
				v, size, err := goSide()
				if err != nil {
					return err
				}
				o, bytesOurs = v, size
			} else {
				v, err := nodeRun(*node, "qr.mjs", strconv.Itoa(*n))
				if err != nil {
					return err
				}
				t = v["ns_per_op"].(float64)
			}
		}
		ours, theirs, ratio = append(ours, o), append(theirs, t), append(ratio, t/o)
	}
	emit(map[string]any{"bench": "qrpng", "rounds": *rounds, "n": *n, "px": 370,
		"posagent_us": median(ours) / 1000, "node_qrcode_us": median(theirs) / 1000,
		"speedup": median(ratio), "speedup_range": minmax(ratio), "posagent_bytes": bytesOurs})
	return nil
}

// withQR returns r with its QR code's data replaced.
func withQR(r printer.Receipt, data string) printer.Receipt {
	bs := slices.Clone(r.Blocks)
	for i, b := range bs {
		if q, ok := b.(printer.QR); ok {
			q.Data = data
			bs[i] = q
		}
	}
	r.Blocks = bs
	return r
}

// txn is a 28-digit transaction number, new for every i.
func txn(i int) string { return fmt.Sprintf("42000023452025031%011d", i) }

// runReceipt: posagent's ESC/POS encoder on the standard payment receipt
// (logo thresholded every time, bilingual text, QR of a new transaction
// number every receipt) against receiptline with its QR drawn as a raster
// (receiptline always rasterises: posagent draws and sends a raster too),
// and against receipt-printer-encoder with a native GS ( k QR (posagent's
// native QR too). "per payment" is a payment's two copies (merchant and
// customer: posagent encodes their shared QR once) against two receipts of
// receiptline.
func runReceipt(args []string) error {
	fs := flag.NewFlagSet("receipt", flag.ExitOnError)
	rounds := fs.Int("rounds", 7, "rounds")
	n := fs.Int("n", 1000, "receipts per side per round")
	node := fs.String("node", "scripts/receipt-bench", "directory with the npm peers installed")
	logo := fs.String("logo", "", "the logo as a PNG (go run ./scripts/receipt-bench/logo FILE)")
	fs.Parse(args)
	rs := printertest.Receipts()
	customer, merchant := rs[0].Receipt, rs[1].Receipt
	seq := 0
	goSide := func(raster, pair bool) (float64, error) {
		e := escpos.NewEncoder(escpos.Profile80)
		one := func(r printer.Receipt) error {
			e.Reset()
			return e.Receipt(r, escpos.EncodeOptions{RasterQR: raster})
		}
		run := func(k int) error {
			for range k {
				seq++
				id := txn(seq)
				if err := one(withQR(customer, id)); err != nil {
					return err
				}
				if pair {
					if err := one(withQR(merchant, id)); err != nil {
						return err
					}
				}
			}
			return nil
		}
		if err := run(50); err != nil { // warm up
			return 0, err
		}
		start := time.Now()
		if err := run(*n); err != nil {
			return 0, err
		}
		return float64(time.Since(start).Nanoseconds()) / float64(*n), nil
	}
	type side struct {
		name string
		f    func() (float64, error)
	}
	nodeSide := func(script string) func() (float64, error) {
		return func() (float64, error) {
			v, err := nodeRun(*node, script, *logo, strconv.Itoa(*n))
			if err != nil {
				return 0, err
			}
			return v["ns_per_op"].(float64), nil
		}
	}
	qrOnly := func() (float64, error) {
		start := time.Now()
		for range *n {
			seq++
			if _, err := qr.Encode(txn(seq), qr.M); err != nil {
				return 0, err
			}
		}
		return float64(time.Since(start).Nanoseconds()) / float64(*n), nil
	}
	sides := []side{
		{"posagent_qr_encode_only", qrOnly},
		{"posagent_raster", func() (float64, error) { return goSide(true, false) }},
		{"receiptline", nodeSide("bench.mjs")},
		{"posagent_native", func() (float64, error) { return goSide(false, false) }},
		{"rpe", nodeSide("rpe.mjs")},
		{"posagent_raster_payment", func() (float64, error) { return goSide(true, true) }},
	}
	got := map[string][]float64{}
	var rl, rpe, pay, qrShare []float64
	for r := range *rounds {
		this := map[string]float64{}
		for k := range sides {
			s := sides[(k+r)%len(sides)]
			v, err := s.f()
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			this[s.name] = v
			got[s.name] = append(got[s.name], v)
		}
		rl = append(rl, this["receiptline"]/this["posagent_raster"])
		rpe = append(rpe, this["rpe"]/this["posagent_native"])
		pay = append(pay, 2*this["receiptline"]/this["posagent_raster_payment"])
		qrShare = append(qrShare, this["posagent_qr_encode_only"]/this["posagent_raster"])
	}
	out := map[string]any{"bench": "receipt", "rounds": *rounds, "n": *n,
		"speedup_vs_receiptline_raster": median(rl), "speedup_vs_receiptline_range": minmax(rl),
		"speedup_vs_rpe_native": median(rpe), "speedup_vs_rpe_range": minmax(rpe),
		"speedup_per_payment_vs_receiptline": median(pay), "speedup_per_payment_range": minmax(pay),
		"qr_encode_share_of_raster_receipt": median(qrShare)}
	for k, v := range got {
		out[k+"_us"] = median(v) / 1000
	}
	emit(out)
	return nil
}
