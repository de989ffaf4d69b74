package localapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// Listing: GET /v1/payments?state=&method=&wallet=&gateway=&reference=
// &created_from=&created_to=&limit=&cursor=. state takes public states
// (pending, succeeded, failed, reversed) and details (awaiting_code, ...),
// comma-separated; created_from/created_to are RFC 3339 times bounding
// created_at to [from, to). The answer is newest first; next_cursor, when
// present, fetches the next (older) page.

const (
	defaultListLimit = 50
	maxListLimit     = 200
)

func (s *Server) listPayments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.PaymentFilter{Limit: defaultListLimit}
	bad := func(field, format string, args ...any) {
		writeError(w, problemf("malformed-request", field, format, args...))
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			bad("limit", "limit must be 1 to %d", maxListLimit)
			return
		}
		f.Limit = n
	}
	for _, st := range splitList(q.Get("state")) {
		switch {
		case st == "pending":
			for _, s := range []pos.State{pos.StateAwaitingCode, pos.StateSubmitting, pos.StateUserPaying, pos.StateUnknown, pos.StateReversing} {
				f.States = append(f.States, s)
			}
		case isPublic(st) || pos.State(st).Valid():
			f.States = append(f.States, pos.State(st))
		default:
			bad("state", "unknown state %q (public: %s; or a detail such as awaiting_code)", st, strings.Join(publicStates, ", "))
			return
		}
	}
	if v := q.Get("method"); v != "" {
		m, err := pos.ParseMethod(v)
		if err != nil {
			bad("method", "%s", messageOf(err))
			return
		}
		f.Method = m
	}
	if v := q.Get("wallet"); v != "" {
		wl, err := pos.ParseWallet(v)
		if err != nil {
			bad("wallet", "%s", messageOf(err))
			return
		}
		f.Wallet = wl
	}
	f.Gateway, f.Reference = q.Get("gateway"), q.Get("reference")
	for _, b := range []struct {
		name string
		t    *time.Time
	}{{"created_from", &f.CreatedFrom}, {"created_to", &f.CreatedTo}} {
		if v := q.Get(b.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				bad(b.name, "%s must be an RFC 3339 time like 2026-12-01T09:00:00Z", b.name)
				return
			}
			*b.t = t
		}
	}
	if v := q.Get("cursor"); v != "" {
		c, ok := decodeCursor(v)
		if !ok {
			bad("cursor", "cursor is not one this API gave")
			return
		}
		f.After = &c
	}
	var ps []pos.Payment
	var err error
	if s.opts.Lister != nil {
		// One more than asked tells whether there is a next page.
		f.Limit++
		ps, err = s.opts.Lister.ListPayments(r.Context(), f)
		f.Limit--
	} else {
		if len(q) > 0 && !(len(q) == 1 && q.Has("limit")) {
			writeError(w, problemf("unavailable", "", "this daemon's journal cannot filter payments"))
			return
		}
		ps, err = s.opts.Payments.Recent(r.Context(), f.Limit)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	out := map[string]any{}
	if len(ps) > f.Limit {
		ps = ps[:f.Limit]
		last := ps[len(ps)-1]
		out["next_cursor"] = encodeCursor(store.PaymentCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	list := make([]Payment, 0, len(ps))
	for _, p := range ps {
		list = append(list, s.paymentJSON(p))
	}
	out["payments"] = list
	writeJSON(w, http.StatusOK, out)
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// A cursor is the position of the last payment of a page, opaque to the
// till: base64url("UNIXNANO:ID").
func encodeCursor(c store.PaymentCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixNano(), 10) + ":" + c.ID))
}

func decodeCursor(s string) (store.PaymentCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.PaymentCursor{}, false
	}
	ns, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return store.PaymentCursor{}, false
	}
	return store.PaymentCursor{CreatedAt: time.Unix(0, n).UTC(), ID: id}, true
}
