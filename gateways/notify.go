package gateways

import "net/http"

// Notification is a verified asynchronous payment notification.
type Notification struct {
	// ID identifies the notification for dedupe (acquirers resend until
	// they see the acknowledgement); adapters derive it from the payload
	// when the wire has none.
	ID         string
	OutTradeNo string
	Result     Result
}

// Notifier verifies asynchronous notifications. The daemon mounts one HTTP
// endpoint per gateway and answers with NotificationAck. An unverifiable
// notification is an error and is never trusted: the payment is queried
// instead.
type Notifier interface {
	ParseNotification(header http.Header, body []byte) (Notification, error)
	// NotificationAck is the answer to send: ok after a verified, journaled
	// notification, !ok otherwise (the acquirer will resend).
	NotificationAck(ok bool) (contentType string, body []byte)
}
