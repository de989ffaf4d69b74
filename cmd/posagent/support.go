package main

import (
	"context"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/hw/display"
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/store"
)

// supportOptions are the support page's parts over the daemon's journal,
// outbox, spool and display (any of them may be missing: its section
// says so).
func supportOptions(journal store.Journal, outbox *flows.Outbox, spool *flows.Spool, disp display.Display) *localapi.SupportOptions {
	o := &localapi.SupportOptions{
		FlagCounts: journal.FlagCounts,
		Tester:     supportTests{journal: journal, spool: spool, display: disp},
	}
	if outbox != nil {
		o.Outbox = outbox
	}
	if kept, ok := journal.(store.ReconcileLog); ok {
		o.LastReconciliation = kept.LastReconciliation
	}
	return o
}

// supportTests are the support page's test print and test display.
type supportTests struct {
	journal store.Journal
	spool   *flows.Spool
	display display.Display
}

func (t supportTests) TestPrint(ctx context.Context) error {
	if t.spool == nil {
		return pos.Errorf(pos.Unavailable, "support.TestPrint", "no receipt printer is configured")
	}
	_, err := t.spool.PrintTest(ctx)
	return err
}

// TestDisplay redraws the welcome screen: a display that cannot be
// written answers with its error. It is refused while a payment is open,
// whose screen (the amount, a QR) the customer may be reading.
func (t supportTests) TestDisplay(ctx context.Context) error {
	const op = "support.TestDisplay"
	if t.display == nil {
		return pos.Errorf(pos.Unavailable, op, "no customer display is configured")
	}
	open, err := t.journal.Pending(ctx)
	if err != nil {
		return err
	}
	if len(open) > 0 {
		return pos.Errorf(pos.Conflict, op, "payment %s is open; its screen stays until it ends", open[0].ID)
	}
	return t.display.Show(ctx, display.Screen{Kind: display.Idle, Message: "test display from the support page"})
}
