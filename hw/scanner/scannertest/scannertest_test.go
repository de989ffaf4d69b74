package scannertest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/scannertest"
)

func TestFakeThroughHub(t *testing.T) {
	f := scannertest.New("front")
	h, err := scanner.NewHub(scanner.HubOptions{}, f)
	if err != nil {
		t.Fatal(err)
	}
	f.Push("134567890123456789")
	s, err := h.Next(context.Background())
	if err != nil || s.Data != "134567890123456789" || s.Source != "front" {
		t.Fatalf("Next = %+v, %v", s, err)
	}
	h.Close()
	if _, err := f.Read(context.Background()); !errors.Is(err, scannertest.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
}
