package localapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// Notified applies verified notifications (flows.Runner implements it).
type Notified interface {
	Notify(ctx context.Context, gateway string, n gateways.Notification) (pos.Payment, error)
}

// NotifyHandler receives acquirers' asynchronous notifications at
// POST /notify/{gateway}. Unlike the API it has no token and no loopback
// guard: the acquirer reaches it through whatever the site exposes (a
// reverse proxy or tunnel). Its only trust is the notification's signature,
// which the gateway's Notifier checks; anything unverified is refused and
// never touches a payment. The answer is the gateway's own acknowledgement.
func NotifyHandler(payments Notified, notifiers map[string]gateways.Notifier, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /notify/{gateway}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("gateway")
		n, ok := notifiers[name]
		if !ok {
			http.Error(w, "unknown gateway", http.StatusNotFound)
			return
		}
		ack := func(ok bool, status int) {
			ct, body := n.NotificationAck(ok)
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			ack(false, http.StatusBadRequest)
			return
		}
		note, err := n.ParseNotification(r.Header, body)
		if err != nil {
			log.Warn("notification refused", "gateway", name, "err", err)
			ack(false, http.StatusBadRequest)
			return
		}
		p, err := payments.Notify(r.Context(), name, note)
		if err != nil {
			log.Warn("notification not applied", "gateway", name, "outTradeNo", note.OutTradeNo, "err", err)
			ack(false, statusFor(pos.KindOf(err)))
			return
		}
		log.Info("notification applied", "gateway", name, "payment", p.ID, "state", p.State)
		ack(true, http.StatusOK)
	})
	return mux
}
