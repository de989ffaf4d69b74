package display

import (
	"fmt"
	"strings"

	"github.com/posagent/posagent"
)

// Lang is a language a customer display speaks.
type Lang string

// The languages of every customer-facing string.
const (
	English            Lang = "en"
	SimplifiedChinese  Lang = "zh-Hans"
	TraditionalChinese Lang = "zh-Hant"
)

// Langs lists the languages in a stable order.
var Langs = []Lang{English, SimplifiedChinese, TraditionalChinese}

// ParseLang reads a language name: en, zh-Hans or zh-Hant (also zh-CN,
// zh-SG for Simplified and zh-TW, zh-HK, zh-MO for Traditional, as
// browsers name them).
func ParseLang(s string) (Lang, error) {
	switch strings.ToLower(s) {
	case "en", "en-us", "en-gb":
		return English, nil
	case "zh-hans", "zh-cn", "zh-sg", "zh":
		return SimplifiedChinese, nil
	case "zh-hant", "zh-tw", "zh-hk", "zh-mo":
		return TraditionalChinese, nil
	}
	return "", fmt.Errorf("display: unknown language %q (want en, zh-Hans or zh-Hant)", s)
}

// ParseLangs reads one or two languages, the first shown first; more than
// two do not fit a customer screen.
func ParseLangs(names []string) ([]Lang, error) {
	if len(names) == 0 || len(names) > 2 {
		return nil, fmt.Errorf("display: languages must name one or two of en, zh-Hans, zh-Hant, not %d", len(names))
	}
	var out []Lang
	for _, n := range names {
		l, err := ParseLang(n)
		if err != nil {
			return nil, err
		}
		for _, o := range out {
			if o == l {
				return nil, fmt.Errorf("display: language %s named twice", l)
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// DefaultLangs is what a display speaks unless configured: English with
// Simplified Chinese beside it, the languages of most customers paying
// with these wallets.
var DefaultLangs = []Lang{English, SimplifiedChinese}

// WalletLangs are per-wallet overrides of the Chinese script: customers of
// a Hong Kong wallet read Traditional characters. Keyed by wallet name so
// an operator's config (display option wallet_languages) extends it.
var WalletLangs = map[pos.Wallet]Lang{
	"alipay_hk": TraditionalChinese,
}

// LangsFor is the languages to show a screen about wallet in: langs, with
// a Chinese entry switched to the wallet's script when overrides (or, for
// a wallet it does not name, WalletLangs) has one.
func LangsFor(langs []Lang, w pos.Wallet, overrides map[pos.Wallet]Lang) []Lang {
	script, ok := overrides[w]
	if !ok {
		script, ok = WalletLangs[w]
	}
	if !ok || w == "" {
		return langs
	}
	out := make([]Lang, len(langs))
	for i, l := range langs {
		if l == SimplifiedChinese || l == TraditionalChinese {
			l = script
		}
		out[i] = l
	}
	if script == English { // an override to English alone
		return []Lang{English}
	}
	return out
}

// Words is what a screen says in one language.
type Words struct {
	Lang Lang
	// Heading is the screen's title ("Amount due", "Payment successful").
	Heading string
	// Message is one short sentence: what to do, or what happened.
	Message string
	// Short fits a 20-column pole display line, ASCII for English.
	Short string
	// Wallet is the wallet's name in this language, or "".
	Wallet string
	// TimeLeft labels a countdown ("Time left").
	TimeLeft string
	// Rate labels an exchange rate ("Rate").
	Rate string
}

// phrase is one string in every language.
type phrase [3]string // en, zh-Hans, zh-Hant

func (p phrase) in(l Lang) string {
	switch l {
	case SimplifiedChinese:
		return p[1]
	case TraditionalChinese:
		return p[2]
	}
	return p[0]
}

// The catalog. Every customer-facing string is here, in every language
// (TestEveryPhraseInEveryLanguage).
var (
	pWelcome       = phrase{"Welcome", "欢迎光临", "歡迎光臨"}
	pAmountDue     = phrase{"Amount due", "应付金额", "應付金額"}
	pShowCode      = phrase{"Please show your payment code", "请出示付款码", "請出示付款碼"}
	pScanQR        = phrase{"Scan the QR code with %s to pay", "请用%s扫码支付", "請用%s掃碼付款"}
	pScanQRAny     = phrase{"Scan the QR code to pay", "请扫码支付", "請掃碼付款"}
	pConfirmHead   = phrase{"Confirm on your phone", "请在手机上确认", "請在手機上確認"}
	pConfirm       = phrase{"Please confirm the payment on your phone", "请在手机上确认付款", "請在手機上確認付款"}
	pProcessing    = phrase{"Processing", "处理中", "處理中"}
	pOneMoment     = phrase{"One moment, please", "请稍候", "請稍候"}
	pPaidHead      = phrase{"Payment successful", "支付成功", "付款成功"}
	pPaid          = phrase{"Thank you!", "谢谢惠顾！", "謝謝惠顧！"}
	pFailedHead    = phrase{"Payment failed", "支付失败", "付款失敗"}
	pNotCharged    = phrase{"You have not been charged. Please try again or pay another way.", "未扣款。请重试或换一种方式支付。", "未扣款。請重試或改用其他方式付款。"}
	pReversedHead  = phrase{"Payment cancelled", "支付已撤销", "付款已撤銷"}
	pReversed      = phrase{"Any amount taken is being returned to you.", "已扣款项将退回给您。", "已扣款項將退回給您。"}
	pRejectedHead  = phrase{"Code not accepted", "付款码无效", "付款碼無效"}
	pUnreadable    = phrase{"That is not a payment code. Please show your payment code again.", "这不是付款码，请重新出示付款码。", "這不是付款碼，請重新出示付款碼。"}
	pNotAccepted   = phrase{"%s is not accepted here. Please use another wallet.", "本店不支持%s，请换用其他钱包。", "本店不支援%s，請改用其他錢包。"}
	pNotAcceptedAn = phrase{"This wallet is not accepted here. Please use another one.", "本店不支持此钱包，请换用其他钱包。", "本店不支援此錢包，請改用其他錢包。"}
	pRefundedHead  = phrase{"Refund complete", "退款成功", "退款成功"}
	pRefunded      = phrase{"The refund goes back to your account.", "退款将退回您的账户。", "退款將退回您的賬戶。"}
	pPausedHead    = phrase{"Cannot take payments", "暂停收款", "暫停收款"}
	pPaused        = phrase{"This till cannot take payments right now. Please pay another way.", "本收银台暂时无法收款，请换一种方式支付。", "本收銀台暫時無法收款，請改用其他方式付款。"}
	pWithdrawnHead = phrase{"Payment cancelled", "支付已取消", "付款已取消"}
	pWithdrawn     = phrase{"Please do not scan or pay this order.", "请勿扫码或支付此订单。", "請勿掃碼或支付此訂單。"}
	pTimeLeft      = phrase{"Time left", "剩余时间", "剩餘時間"}
	pRate          = phrase{"Rate", "汇率", "匯率"}
)

// short pole-display lines: English only, at most 20 columns (the pole
// display transliterates or uses its code page for anything else).
var shortLines = map[string]string{
	"welcome":             "Welcome",
	"due":                 "Amount due",
	"scan":                "Scan QR to pay",
	"confirm":             "Confirm on phone",
	"processing":          "Processing...",
	"paid":                "Paid - thank you",
	"not_charged":         "Failed: not charged",
	"reversed":            "Cancelled, refunding",
	"unreadable":          "Code not accepted",
	"wallet_not_accepted": "Wallet not accepted",
	"refunded":            "Refund complete",
	"till_unavailable":    "Pay another way",
	"withdrawn":           "Cancelled: no scan",
}

// walletNames are the wallets' names as their users know them.
var walletNames = map[pos.Wallet]phrase{
	pos.WeChatPay: {"WeChat Pay", "微信支付", "微信支付"},
	pos.Alipay:    {"Alipay", "支付宝", "支付寶"},
	pos.UnionPay:  {"UnionPay", "银联", "銀聯"},
	pos.QQWallet:  {"QQ Wallet", "QQ钱包", "QQ錢包"},
	pos.JDPay:     {"JD Pay", "京东支付", "京東支付"},
	pos.PayNow:    {"PayNow", "PayNow", "PayNow"},
	"alipay_hk":   {"AlipayHK", "支付宝HK", "支付寶HK"},
}

// WalletName is w's name in l ("" for no wallet).
func WalletName(w pos.Wallet, l Lang) string {
	if w == "" {
		return ""
	}
	if p, ok := walletNames[w]; ok {
		return p.in(l)
	}
	return w.DisplayName()
}

// WordsFor is what s says in l. It never includes Screen.Message, which
// may carry a gateway's wording.
func WordsFor(s Screen, l Lang) Words {
	w := Words{Lang: l, Wallet: WalletName(s.Wallet, l), TimeLeft: pTimeLeft.in(l), Rate: pRate.in(l)}
	set := func(head, msg phrase, short string) {
		w.Heading, w.Message, w.Short = head.in(l), msg.in(l), shortLines[short]
	}
	withWallet := func(p, without phrase) string {
		if w.Wallet == "" {
			return without.in(l)
		}
		return fmt.Sprintf(p.in(l), w.Wallet)
	}
	switch s.Kind {
	case Idle:
		set(pWelcome, pWelcome, "welcome")
	case ScanPrompt:
		set(pAmountDue, pShowCode, "due")
	case ShowQR:
		set(pAmountDue, pScanQRAny, "scan")
		w.Message = withWallet(pScanQR, pScanQRAny)
	case Withdrawn:
		set(pWithdrawnHead, pWithdrawn, "withdrawn")
	case Processing:
		if s.State == pos.StateUserPaying {
			set(pConfirmHead, pConfirm, "confirm")
		} else {
			set(pProcessing, pOneMoment, "processing")
		}
	default:
		switch OutcomeOf(s) {
		case OutcomePaid:
			set(pPaidHead, pPaid, "paid")
		case OutcomeReversed:
			set(pReversedHead, pReversed, "reversed")
		case OutcomeUnreadable:
			set(pRejectedHead, pUnreadable, "unreadable")
		case OutcomeWalletNotAccepted:
			set(pRejectedHead, pNotAcceptedAn, "wallet_not_accepted")
			w.Message = withWallet(pNotAccepted, pNotAcceptedAn)
		case OutcomeRefunded:
			set(pRefundedHead, pRefunded, "refunded")
		case OutcomeTillUnavailable:
			set(pPausedHead, pPaused, "till_unavailable")
		default:
			set(pFailedHead, pNotCharged, "not_charged")
		}
	}
	return w
}
