package localapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// GET /v1/events is a Server-Sent Events stream of every payment and
// refund change, in the order the journal wrote them. Each event's id is
// "P-R": the journal sequence numbers of the last payment event and the
// last refund event sent, so a client that reconnects with Last-Event-ID
// (or ?after=P-R) gets exactly what it has not seen, whether it or the
// daemon restarted in between: the ids are the journal's, not the
// connection's. An id of "0-0" (or none) starts from the beginning;
// ?after=now starts from the current end.
//
//	id: 12-3
//	event: payment
//	data: {"seq":12,"payment_id":"pay_…","from":"submitting","to":"succeeded","state":"succeeded",…}
//
// Refund events have event: refund and a refund_id. A comment line is sent
// every 15 s so idle proxies and clients know the stream is alive.

const (
	feedBatch     = 200
	feedKeepAlive = 15 * time.Second
	feedPoll      = time.Second // also re-read when nothing wakes the stream
)

type feedPos struct{ P, R int64 }

func (f feedPos) String() string {
	return strconv.FormatInt(f.P, 10) + "-" + strconv.FormatInt(f.R, 10)
}

func parseFeedPos(s string) (feedPos, bool) {
	a, b, ok := strings.Cut(s, "-")
	p, err1 := strconv.ParseInt(a, 10, 64)
	r, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || p < 0 || r < 0 {
		return feedPos{}, false
	}
	return feedPos{p, r}, true
}

type feedPayment struct {
	Seq       int64     `json:"seq"`
	PaymentID string    `json:"payment_id"`
	At        time.Time `json:"at"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	State     string    `json:"state"` // the public state after the change
	Reason    string    `json:"reason,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

type feedRefund struct {
	Seq      int64     `json:"seq"`
	RefundID string    `json:"refund_id"`
	At       time.Time `json:"at"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	// Method is "refund" or "void" (a void of the sale).
	Method string `json:"method"`
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	if s.opts.Feed == nil {
		writeError(w, problemf("unavailable", "", "this daemon's journal has no event feed"))
		return
	}
	pos0 := feedPos{}
	from := r.Header.Get("Last-Event-ID")
	if v := r.URL.Query().Get("after"); v != "" {
		from = v
	}
	ctx := r.Context()
	switch from {
	case "":
	case "now":
		end, err := s.feedEnd(ctx)
		if err != nil {
			writeError(w, err)
			return
		}
		pos0 = end
	default:
		p, ok := parseFeedPos(from)
		if !ok {
			writeError(w, problemf("malformed-request", "Last-Event-ID", "event id %q is not P-R (two journal sequence numbers)", from))
			return
		}
		pos0 = p
	}
	rc := http.NewResponseController(w)
	// A stream outlives the server's read and write deadlines.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, ": posagent events from %s\nretry: 1000\n\n", pos0)
	_ = rc.Flush()
	keep := time.NewTicker(feedKeepAlive)
	defer keep.Stop()
	poll := time.NewTicker(feedPoll)
	defer poll.Stop()
	cur := pos0
	for {
		var changed <-chan struct{}
		if s.opts.Changed != nil {
			changed = s.opts.Changed()
		}
		next, err := s.sendFeed(ctx, w, cur)
		if err != nil {
			if ctx.Err() == nil {
				s.opts.Logger.Warn("event stream failed", "err", err)
			}
			return
		}
		if next != cur {
			cur = next
			if err := rc.Flush(); err != nil {
				return
			}
			continue // there may be more than a batch
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-poll.C:
		case <-keep.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

func (s *Server) feedEnd(ctx context.Context) (feedPos, error) {
	end := feedPos{}
	for {
		evs, err := s.opts.Feed.EventsAfter(ctx, end.P, feedBatch)
		if err != nil {
			return end, err
		}
		if len(evs) == 0 {
			break
		}
		end.P = evs[len(evs)-1].Seq
	}
	for {
		evs, err := s.opts.Feed.RefundEventsAfter(ctx, end.R, feedBatch)
		if err != nil {
			return end, err
		}
		if len(evs) == 0 {
			break
		}
		end.R = evs[len(evs)-1].Seq
	}
	return end, nil
}

// sendFeed writes the events after cur (one batch of each kind, merged by
// time) and returns the position after them.
func (s *Server) sendFeed(ctx context.Context, w http.ResponseWriter, cur feedPos) (feedPos, error) {
	pe, err := s.opts.Feed.EventsAfter(ctx, cur.P, feedBatch)
	if err != nil {
		return cur, err
	}
	re, err := s.opts.Feed.RefundEventsAfter(ctx, cur.R, feedBatch)
	if err != nil {
		return cur, err
	}
	i, j := 0, 0
	for i < len(pe) || j < len(re) {
		var (
			kind string
			v    any
		)
		if j >= len(re) || (i < len(pe) && !re[j].At.Before(pe[i].At)) {
			e := pe[i]
			i++
			cur.P = e.Seq
			kind = "payment"
			v = feedPayment{Seq: e.Seq, PaymentID: e.PaymentID, At: e.At, From: string(e.From), To: string(e.To), State: e.To.Status(), Reason: e.Reason, Detail: e.Detail}
		} else {
			e := re[j]
			j++
			cur.R = e.Seq
			kind = "refund"
			v = feedRefund{Seq: e.Seq, RefundID: e.RefundID, At: e.At, From: string(e.From), To: string(e.To), State: e.To.Status(), Reason: e.Reason, Detail: e.Detail,
				Method: string(e.Method.OrRefund())}
		}
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", cur, kind, b); err != nil {
			return cur, err
		}
	}
	return cur, nil
}
