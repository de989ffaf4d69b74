package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDiskGuardRefusesNewPaymentsWhenFull(t *testing.T) {
	reached := 0
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++; w.WriteHeader(201) })
	free := uint64(10 << 20)
	h := withDiskGuard(api, "/state", minFreeJournal, func(string) (uint64, error) { return free, nil }, slog.New(slog.DiscardHandler))
	do := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(`{}`)))
		return rec
	}
	for _, path := range []string{"/v1/payments", "/v1/payments/pay_1/refunds"} {
		rec := do("POST", path)
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != 503 || !strings.Contains(string(body), "urn:posagent:problem:unavailable") || !strings.Contains(string(body), "10 MiB free") {
			t.Errorf("POST %s with 10 MiB free: %d %s", path, rec.Code, body)
		}
	}
	if reached != 0 {
		t.Fatalf("a refused create reached the API %d times", reached)
	}
	// Reads, cancels and the payments under way go on.
	for _, r := range [][2]string{{"GET", "/v1/payments"}, {"POST", "/v1/payments/pay_1/cancel"}} {
		if rec := do(r[0], r[1]); rec.Code != 201 {
			t.Errorf("%s %s refused while the disk is full: %d", r[0], r[1], rec.Code)
		}
	}
	free = 1 << 30
	if rec := do("POST", "/v1/payments"); rec.Code != 201 {
		t.Errorf("with room again: %d", rec.Code)
	}
	// The real file system answers.
	if n, err := freeBytes(t.TempDir()); err != nil || n == 0 {
		t.Errorf("freeBytes: %d %v", n, err)
	}
}
