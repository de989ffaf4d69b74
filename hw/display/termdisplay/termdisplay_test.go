package termdisplay

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/display"
)

// linesToImage turns half-block lines back into pixels (each module 4x4),
// the way a phone camera sees the terminal.
func linesToImage(lines []string) image.Image {
	const scale = 4
	rows := make([][]bool, 0, 2*len(lines))
	for _, l := range lines {
		var top, bottom []bool
		for _, r := range l {
			top = append(top, r == '█' || r == '▀')
			bottom = append(bottom, r == '█' || r == '▄')
		}
		rows = append(rows, top, bottom)
	}
	w := len(rows[0])
	img := image.NewGray(image.Rect(0, 0, w*scale, len(rows)*scale))
	for y, row := range rows {
		for x, dark := range row {
			c := color.Gray{Y: 255}
			if dark {
				c = color.Gray{Y: 0}
			}
			for dy := 0; dy < scale; dy++ {
				for dx := 0; dx < scale; dx++ {
					img.SetGray(x*scale+dx, y*scale+dy, c)
				}
			}
		}
	}
	return img
}

func decode(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the displayed QR does not decode: %v", err)
	}
	return res.GetText()
}

func TestQRLinesDecodeBack(t *testing.T) {
	for _, data := range []string{
		"weixin://wxpay/bizpayurl?pr=AbCdEfG",
		"https://qr.alipay.com/bax03431ljhokirwl38f00a7",
	} {
		lines, err := QRLines(data)
		if err != nil {
			t.Fatal(err)
		}
		if got := decode(t, linesToImage(lines)); got != data {
			t.Fatalf("decoded %q, want %q", got, data)
		}
	}
}

func TestShowWritesEveryScreen(t *testing.T) {
	var buf bytes.Buffer
	d := New(&buf, "> ")
	m, _ := pos.NewMoney(1291, "CNY")
	screens := []struct {
		s    display.Screen
		want string
	}{
		{display.Screen{Kind: display.ScanPrompt, Amount: m, Message: "Please show your payment code"}, "Amount due: 12.91 CNY"},
		{display.Screen{Kind: display.Rejected, Amount: m, Message: "that is a product barcode"}, "Code not accepted: That is not a payment code."},
		{display.Screen{Kind: display.Result, Amount: m, Wallet: pos.Alipay, State: pos.StateSucceeded, Message: "Thank you"}, "12.91 CNY  Alipay  SUCCEEDED"},
		{display.Screen{Kind: display.ShowQR, Amount: m, QR: "weixin://wxpay/bizpayurl?pr=x"}, "█"},
		{display.Screen{Kind: display.ShowQR, Amount: m, Wallet: pos.WeChatPay, QR: "weixin://wxpay/bizpayurl?pr=x", Expires: time.Now().Add(2*time.Minute + 500*time.Millisecond)}, "Time left 2:01"},
		{display.Screen{Kind: display.Result, Amount: m, State: pos.StateFailed, Message: "Payment failed: dial tcp: lookup gw.example: no such host"}, "Payment failed. You have not been charged."},
		{display.Screen{Kind: display.Refunded, Amount: m, Wallet: pos.Alipay}, "Refund: 12.91 CNY  Alipay"},
	}
	for _, sc := range screens {
		buf.Reset()
		if err := d.Show(context.Background(), sc.s); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), sc.want) {
			t.Errorf("%s screen: %q lacks %q", sc.s.Kind, buf.String(), sc.want)
		}
		if strings.Contains(buf.String(), "dial tcp") {
			t.Errorf("%s screen shows the flows' technical message: %q", sc.s.Kind, buf.String())
		}
		for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
			if !strings.HasPrefix(l, "> ") {
				t.Errorf("line without prefix: %q", l)
			}
		}
	}
}
