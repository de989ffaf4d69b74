package display_test

import (
	"context"
	"errors"
	"testing"

	"github.com/posagent/posagent/hw/display"
)

// recorder is a display that remembers what it was shown and fails with err.
type recorder struct {
	shown []display.ScreenKind
	err   error
}

func (r *recorder) Show(_ context.Context, s display.Screen) error {
	r.shown = append(r.shown, s.Kind)
	return r.err
}

func TestMultiShowsOnEveryDisplayAndJoinsErrors(t *testing.T) {
	errA, errC := errors.New("a is unplugged"), errors.New("c is unplugged")
	a, b, c := &recorder{err: errA}, &recorder{}, &recorder{err: errC}
	m := display.Multi(a, nil, b, c)
	err := m.Show(context.Background(), display.Screen{Kind: display.ScanPrompt})
	if !errors.Is(err, errA) || !errors.Is(err, errC) {
		t.Errorf("Show error %v, want both displays' errors joined", err)
	}
	for name, r := range map[string]*recorder{"a": a, "b": b, "c": c} {
		if len(r.shown) != 1 || r.shown[0] != display.ScanPrompt {
			t.Errorf("display %s was shown %v, want [scan_prompt] even though another failed", name, r.shown)
		}
	}
	if err := display.Multi(b, b).Show(context.Background(), display.Screen{Kind: display.Idle}); err != nil {
		t.Errorf("no display failed, yet Show returned %v", err)
	}
}

func TestMultiOfOneOrNone(t *testing.T) {
	if d := display.Multi(); d != nil {
		t.Errorf("Multi() = %#v, want a nil Display", d)
	}
	if d := display.Multi(nil, nil); d != nil {
		t.Errorf("Multi(nil, nil) = %#v, want a nil Display", d)
	}
	r := &recorder{}
	if d := display.Multi(nil, r); d != display.Display(r) {
		t.Errorf("Multi of one display = %#v, want that display itself", d)
	}
}
