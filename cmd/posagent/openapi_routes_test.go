package main

import (
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/localapi/openapitest"
)

// Every route the daemon serves on the local API is in openapi.json:
// localapi's own and those the daemon adds through apiExtra (localapi's
// TestOpenAPIListsEveryRoute sees only the former). The API is built as
// the daemon builds it, with every optional part present so that every
// route is mounted (localapi's own are mounted whatever is configured); the handlers are never called, so zero values stand
// in for the flows behind them.
//
// Not in the document, on purpose: GET /metrics (withMetrics, in front of
// the API) is Prometheus text for a scraper, not part of the till's JSON
// contract, and is described in ARCHITECTURE.md; the gateways'
// notification endpoints and the customer display are other listeners
// (notify_listen, display_listen), not the local API.
func TestOpenAPIListsEveryDaemonRoute(t *testing.T) {
	doc, err := openapitest.Load(localapi.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, op := range doc.Operations() {
		documented[op.Method+" "+op.Path] = true
	}
	runner := &flows.Runner{}
	api, err := localapi.New(localapi.Options{
		Payments: runner, Token: pos.Secret("0123456789abcdef0123"),
		Support: &localapi.SupportOptions{Outbox: &flows.Outbox{}},
		Extra:   apiExtra(runner, &flows.Outbox{}, &flows.Reconciler{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range api.Routes() {
		if !documented[r] {
			t.Errorf("the daemon serves %q but openapi.json does not list it", r)
		}
	}
}
