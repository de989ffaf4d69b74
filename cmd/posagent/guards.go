package main

import (
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/localapi"
)

// The spool the daemon gives the API reprints refunds too.
var _ localapi.RefundReprinter = (*flows.Spool)(nil)
