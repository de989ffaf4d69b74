// Package faultmatrix holds the fault matrix and the fuzzing of the
// notification endpoints: both need every gateway adapter paired with its
// simulator behind a real flows.Runner and RefundRunner on a real SQLite
// journal, so they live together, in tests only.
//
// TestFaultMatrix runs every fault (no answer past the call timeout, a
// refused connection, HTTP 5xx, a malformed body, a bad or missing signature, a
// redirect, a duplicate notification, a notification before the answer, a
// full disk, the clock stepped back) against every call (pay, query,
// reverse or close, refund, refund query) of every gateway, takes the
// flow to its final state and checks it against the simulator's ledger
// (the truth check's rule, flows/truthtest). The table of final states is
// published in RELIABILITY.md between marker comments; the test fails
// when a cell disagrees with the ledger, and when the published table
// differs from the one it produced in shape (a cell that ended in another
// state that also agrees with the ledger, as load can make a fault that
// races a timeout do, is logged instead):
//
//	go test ./flows/faultmatrix -run TestFaultMatrix -args -write-matrix
//
// rewrites it. FuzzNotifyEndpoint feeds the POST /notify/{gateway}
// handler (localapi.NotifyHandler, each adapter's Notifier, the runner)
// whatever bodies the fuzzer makes from a simulator's signed
// notification and the spec's worked examples.
package faultmatrix
