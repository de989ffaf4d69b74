package hipopaysim

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/posagent/posagent"
)

// PathPlaceOrder is the spec's "Place an Order" API, which the customer's
// mini-program calls ("Signature is not required").
const PathPlaceOrder = "/wechatpay/mini_program/payment"

// placeOrder answers POST /wechatpay/mini_program/payment as the spec's
// "Place an Order" describes it, standing in for the customer's
// mini-program: merchant_no, out_trade_id, amount, currency,
// product_info, appid, openid and client_ip are required (notify_url and
// is_rmb optional), as a form or a JSON object. The order then follows
// the magic amounts like a seeded one (Seed): paid at once and notified
// unless its amount says otherwise. The answer is the spec's: the order
// and its prepay_params.
func (s *Server) placeOrder(w http.ResponseWriter, r *http.Request) {
	p, err := placeParams(r)
	if err != nil {
		writeJSON(w, map[string]any{"is_success": false, "error": "PARAM_ERROR", "error_message": err.Error()})
		return
	}
	for _, k := range []string{"merchant_no", "out_trade_id", "amount", "currency", "product_info", "appid", "openid", "client_ip"} {
		if p[k] == "" {
			writeJSON(w, map[string]any{"is_success": false, "error": "PARAM_ERROR", "error_message": k + " is required"})
			return
		}
	}
	if p["merchant_no"] != s.opts.MerchantNO {
		writeJSON(w, map[string]any{"is_success": false, "error": "MERCHANT_NOT_FOUND", "error_message": "merchant_no is not this merchant"})
		return
	}
	if _, ok := rates[p["currency"]]; !ok {
		writeJSON(w, map[string]any{"is_success": false, "error": "FOREX_MERCHANT_NOT_SUPPORT_THIS_CURRENCY", "error_message": "This currency is not supported"})
		return
	}
	amt, err := pos.ParseMoney(p["amount"], p["currency"])
	if err != nil || amt.Minor <= 0 {
		writeJSON(w, map[string]any{"is_success": false, "error": "PARAM_ERROR", "error_message": "amount: at most two decimals, none for JPY and KRW"})
		return
	}
	o, err := s.Seed(SeedOrder{OutTradeNo: p["out_trade_id"], Amount: amt})
	if err != nil {
		writeJSON(w, map[string]any{"is_success": false, "error": "PARAM_ERROR", "error_message": err.Error()})
		return
	}
	resp := s.describe(o)
	resp["product_info"] = p["product_info"]
	resp["prepay_params"] = map[string]any{"nonceStr": "sim", "order_no": o.TransactionID, "paySign": "SIMULATED",
		"prepay_id": "wx" + o.TransactionID, "timeStamp": "0"}
	writeJSON(w, map[string]any{"is_success": true, "response": resp})
}

func placeParams(r *http.Request) (map[string]string, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return nil, err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	p := map[string]string{}
	if ct == "application/json" || strings.HasPrefix(strings.TrimSpace(string(b)), "{") {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		for k, v := range m {
			if sv, ok := v.(string); ok {
				p[k] = sv
			}
		}
		return p, nil
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, err
	}
	for k := range v {
		p[k] = v.Get(k)
	}
	return p, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}
