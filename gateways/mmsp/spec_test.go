package mmsp

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/posagent/posagent/gateways"
)

// specText reads shared/specs/mmsp-openplat-zh.txt: POSAGENT_SPECS when
// set, else shared/specs beside the repository (CI checks shared/ out
// beside the clone; a worktree under wt/ finds it one level further up).
func specText(t *testing.T) string {
	t.Helper()
	const name = "mmsp-openplat-zh.txt"
	var dirs []string
	if d := os.Getenv("POSAGENT_SPECS"); d != "" {
		dirs = append(dirs, d)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatalf("no go.mod above %s", wd)
		}
		root = parent
	}
	dirs = append(dirs, filepath.Join(root, "..", "shared", "specs"), filepath.Join(root, "..", "..", "shared", "specs"))
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, name)); err == nil {
			return string(b)
		}
	}
	t.Fatalf("%s not found in %v: check shared/ out beside the repository or set POSAGENT_SPECS", name, dirs)
	return ""
}

// scanPart is the 扫码接口规范 part: from its heading line to the next part's.
func scanPart(t *testing.T, spec string) []string {
	t.Helper()
	lines := strings.Split(spec, "\n")
	start, end := -1, -1
	for i, l := range lines {
		switch strings.TrimSpace(l) {
		case "扫码接口规范":
			start = i
		case "网关支付接口规范":
			if start >= 0 && end < 0 {
				end = i
			}
		}
	}
	if start < 0 || end < start {
		t.Fatal("the spec has no 扫码接口规范 part")
	}
	return lines[start:end]
}

// specSectionOps maps the scan-code part's answer sections that carry a
// STATUS to the operation whose table must list every value.
var specSectionOps = map[string]Operation{
	"5.1.3": OpQRCreate, "6.1.2": OpQRCreate, "6.3.2": OpQRCreate, "6.4.2": OpQRCreate,
	"7.1.2": OpQRCreate, "8.1.2": OpQRCreate, "9.1.2": OpQRCreate,
	"5.2.3": OpPay, "6.2.3": OpPay, "7.2.3": OpPay,
	"10.3.2": OpQuery, "10.4.2": OpReverse, "10.5.2": OpClose,
	"10.6.2": OpRefund, "10.7.2": OpRefundQuery, "10.8": OpNotify,
}

// specOutOfScope are sections with a STATUS that are not till flows (H5).
var specOutOfScope = map[string]bool{"5.3.1": true, "6.5.2": true}

// answerOps are the operations whose answers carry the header and may be
// the unified negative answer (a notification is pushed, not answered).
var answerOps = []Operation{OpPay, OpQRCreate, OpQuery, OpReverse, OpRefund, OpRefundQuery, OpClose}

// TestOutcomeTablesCoverTheSpec reads the spec and fails when a code its
// scan-code tables list has no row in the operation's outcome table.
func TestOutcomeTablesCoverTheSpec(t *testing.T) {
	spec := specText(t)
	part := scanPart(t, spec)
	need := func(op Operation, code, where string) {
		t.Helper()
		if _, ok := lookup(op, code); !ok {
			t.Errorf("%s: %s lists %q; the %s table has no row", where, "the spec", code, op)
		}
	}

	// STATUS values of every answer table, by section.
	heading := regexp.MustCompile(`^(\d+(?:\.\d+)+) `)
	digits := regexp.MustCompile(`\d+`)
	section := ""
	seen := map[string]bool{}
	for _, l := range part {
		if m := heading.FindStringSubmatch(l); m != nil {
			section = m[1]
		}
		if !strings.HasPrefix(l, "STATUS\t") {
			continue
		}
		cols := strings.Split(l, "\t")
		if len(cols) < 4 {
			t.Fatalf("§%s: STATUS row without a description: %q", section, l)
		}
		if specOutOfScope[section] {
			continue
		}
		op, ok := specSectionOps[section]
		if !ok {
			t.Errorf("§%s lists STATUS but is mapped to no operation: %q", section, l)
			continue
		}
		seen[section] = true
		values := digits.FindAllString(cols[3], -1)
		if len(values) == 0 {
			t.Errorf("§%s: no STATUS values in %q", section, cols[3])
		}
		for _, v := range values {
			need(op, "STATUS "+v, "§"+section)
		}
	}
	for s := range specSectionOps {
		if !seen[s] {
			t.Errorf("§%s: no STATUS row found; the section map is stale", s)
		}
	}

	// §11: the header response codes and the body error codes.
	var inHeader, inBody bool
	headerRow := regexp.MustCompile(`^(\d+)\t`)
	bodyRow := regexp.MustCompile(`^([0-9A-Z]{2})\t`)
	var headerCodes, bodyCodes []string
	for _, l := range part {
		switch {
		case strings.Contains(l, "包头响应码列表"):
			inHeader, inBody = true, false
		case strings.Contains(l, "包体错误码列表"):
			inHeader, inBody = false, true
		case strings.HasPrefix(l, "12. "):
			inHeader, inBody = false, false
		}
		if m := headerRow.FindStringSubmatch(l); inHeader && m != nil {
			headerCodes = append(headerCodes, m[1])
		}
		if m := bodyRow.FindStringSubmatch(l); inBody && m != nil {
			bodyCodes = append(bodyCodes, m[1])
		}
	}
	if len(headerCodes) < 2 || len(bodyCodes) < 3 {
		t.Fatalf("§11 tables not found: header %v body %v", headerCodes, bodyCodes)
	}
	for _, op := range answerOps {
		for _, c := range headerCodes {
			need(op, "RetCode "+c, "§11 包头响应码列表")
		}
		for _, c := range bodyCodes {
			need(op, "ERR_CODE "+c, "§11 包体错误码列表")
		}
	}

	// The RetCodes of the part's negative-answer examples, and every
	// "[-N]" sub-code the document shows anywhere (FAQ, examples).
	example := strings.Join(part, "\n")
	negEx := regexp.MustCompile(`"CommandID":\s*32768[^}]*?"RetCode":\s*(\d+)`)
	for _, m := range negEx.FindAllStringSubmatch(example, -1) {
		for _, op := range answerOps {
			need(op, "32768 RetCode "+m[1], "扫码 §3.1 example")
		}
	}
	for _, m := range regexp.MustCompile(`\[(-\d+)\]`).FindAllStringSubmatch(spec, -1) {
		for _, op := range answerOps {
			need(op, "32768 ["+m[1]+"]", "the document's sub-code")
		}
	}

	// The command table: every in-scope request has an operation, and
	// every answer is the one the adapter expects.
	c := fixedClient(t, testOptions("http://127.0.0.1:1"))
	cmdRow := regexp.MustCompile(`(?m)^0x([0-9A-F]{4})\t(\d+)\t(.+)$`)
	ops := map[int]Operation{
		CmdWeChatQR: OpQRCreate, CmdAlipayQR: OpQRCreate, CmdQQQR: OpQRCreate, CmdUnionPayQR: OpQRCreate,
		CmdAlipayStaticQR: OpQRCreate, CmdAlipayDynamicQR: OpQRCreate, CmdJDQR: OpQRCreate,
		CmdWeChatMicropay: OpPay, CmdAlipayMicropay: OpPay, CmdQQMicropay: OpPay,
		CmdQuery: OpQuery, CmdReverse: OpReverse, CmdRefund: OpRefund, CmdRefundQuery: OpRefundQuery,
		CmdClose: OpClose, CmdNotify: OpNotify,
	}
	outOfScope := map[int]bool{0x0406: true, 0x0911: true} // 支付宝H5, 微信H5
	listed := map[int]bool{}
	rows := cmdRow.FindAllStringSubmatch(example, -1)
	for _, m := range rows {
		hexV, _ := strconv.ParseInt(m[1], 16, 32)
		dec, _ := strconv.Atoi(m[2])
		if int(hexV) != dec {
			t.Errorf("command table row %q: hex and decimal differ", m[0])
		}
		listed[dec] = true
	}
	for _, m := range rows {
		cmd, _ := strconv.Atoi(m[2])
		if cmd >= ResponseOffset || outOfScope[cmd] {
			continue
		}
		op, ok := ops[cmd]
		if !ok {
			t.Errorf("command %d (%s) has no operation", cmd, m[3])
			continue
		}
		if len(Outcomes[op]) == 0 {
			t.Errorf("command %d: operation %s has no table", cmd, op)
		}
		if cmd == CmdNotify {
			continue
		}
		if ans := c.responseFor(cmd); !listed[ans] {
			t.Errorf("command %d: the adapter expects answer %d, which the table does not list", cmd, ans)
		}
	}
	if len(rows) < 30 {
		t.Fatalf("command table not found (%d rows)", len(rows))
	}
}

// TestOutcomeRowsCiteTheSpec: the refusal sub-codes borrowed from the
// 代付 part's 返回码 table are there with the words the rows give.
func TestOutcomeRowsCiteTheSpec(t *testing.T) {
	spec := specText(t)
	for op, rows := range Outcomes {
		for _, r := range rows {
			if r.Section == "" || r.Says == "" {
				t.Errorf("%s %s: no section or words", op, r.Code)
			}
			if !strings.HasPrefix(r.Section, "代付 §6.2") {
				continue
			}
			n := strings.TrimSuffix(strings.TrimPrefix(r.Code, "32768 [-"), "]")
			words, _, _ := strings.Cut(r.Says, ":")
			if !strings.Contains(spec, n+"\t"+words) {
				t.Errorf("%s %s: the spec's 代付 §6.2 has no row %q", op, r.Code, n+"\t"+words)
			}
		}
	}
}

// TestUnlistedIsUnknown: codes no table lists are Unknown on every
// operation, never Failed or Succeeded.
func TestUnlistedIsUnknown(t *testing.T) {
	for op := range Outcomes {
		for _, code := range []string{"STATUS 0", "STATUS 4", "STATUS ", "32768 [-9999]", "32768 RetCode 1006", "32768 RetCode 7", "RetCode 2"} {
			if r, ok := lookup(op, code); ok && r.Status != gateways.StatusUnknown {
				t.Errorf("%s: %q is listed as %s", op, code, r.Status)
			}
		}
	}
}
