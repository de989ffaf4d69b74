package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/posagent/posagent/hw/printer/escpos"
	"github.com/posagent/posagent/hw/printer/virtual"
)

// tourReceipts is the tour's receipt walk, after the payments and refunds:
// a failed payment's receipt says it charged nothing, the end-of-day
// summary prints, and the previews draw Chinese with a CJK font (or say
// they cannot). failed is a failed payment of the tour ("" if none).
func tourReceipts(ctx context.Context, c *apiClient, receipts receiptLister, failed string) ([]string, bool) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var lines []string
	ok := true
	check := func(name string, err error) {
		mark := "ok"
		if err != nil {
			mark, ok = "MISMATCH: "+err.Error(), false
		}
		lines = append(lines, fmt.Sprintf("  %-48s %s", name, mark))
	}
	if receipts == nil {
		return []string{"  skipped: no receipt previews"}, true
	}
	if failed != "" {
		check("a failed payment's receipt says Not charged 未扣款", receiptSays(receipts.Files(failed), []string{"Not charged 未扣款"}, "谢谢惠顾"))
	}
	var out struct{ Jobs []struct{ ID int64 } }
	err := c.do(ctx, http.MethodPost, "/v1/summary/print", nil, &out)
	var summary []string
	for err == nil && len(summary) == 0 {
		if summary = previews(receipts.Files("summary")); len(summary) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			err = fmt.Errorf("no summary preview")
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err == nil {
		err = receiptSays(receipts.Files("summary"), []string{"Refunded 退款", "Net 净额"}, "")
	}
	check("the summary prints refunds and the net", err)
	if len(summary) > 0 {
		font, ferr := virtual.SystemCJKFont()
		name := "previews draw Chinese as boxes (no CJK font)"
		if ferr == nil {
			name = "previews draw Chinese with " + font.Path()
			err = drawsChinese(summary[len(summary)-1])
		} else {
			err = nil // allowed: said in the log, and here
		}
		check(name, err)
	}
	return lines, ok
}

// receiptSays checks the text beside a receipt's preview has every want
// and not avoid ("" avoids nothing).
func receiptSays(files []string, wants []string, avoid string) error {
	for _, f := range files {
		if !strings.HasSuffix(f, ".txt") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		for _, want := range wants {
			if !strings.Contains(string(b), want) {
				return fmt.Errorf("%s lacks %q", f, want)
			}
		}
		if avoid != "" && strings.Contains(string(b), avoid) {
			return fmt.Errorf("%s says %q", f, avoid)
		}
		return nil
	}
	return fmt.Errorf("no receipt text among %v", files)
}

// drawsChinese checks a preview is not what the same bytes give with no
// CJK font (boxes): its Chinese was drawn from the font.
func drawsChinese(pngPath string) error {
	bin, err := os.ReadFile(strings.TrimSuffix(pngPath, ".png") + ".bin")
	if err != nil {
		return err
	}
	f, err := os.Open(pngPath)
	if err != nil {
		return err
	}
	defer f.Close()
	got, err := png.Decode(f)
	if err != nil {
		return err
	}
	boxes, err := virtual.RenderWith(bin, escpos.Profile80, nil)
	if err != nil {
		return err
	}
	if samePixels(got, boxes) {
		return fmt.Errorf("%s draws Chinese as boxes", pngPath)
	}
	return nil
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	var ba, bb bytes.Buffer
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, _, _, _ := a.At(x, y).RGBA()
			r2, _, _, _ := b.At(x, y).RGBA()
			ba.WriteByte(byte(r1 >> 15))
			bb.WriteByte(byte(r2 >> 15))
		}
	}
	return bytes.Equal(ba.Bytes(), bb.Bytes())
}
