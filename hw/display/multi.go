package display

import (
	"context"
	"errors"
)

// Multi returns a Display that shows every screen on each of displays in
// turn (a till's terminal and its customer-facing web page, say) and
// returns their errors joined: one failing display does not keep the
// screen off the others. Nil displays are skipped; with a single display
// left, that display is returned as it is, and with none, Multi returns a
// nil Display (the runner's "no display"), never a non-nil empty one.
func Multi(displays ...Display) Display {
	var ds multi
	for _, d := range displays {
		if d != nil {
			ds = append(ds, d)
		}
	}
	switch len(ds) {
	case 0:
		return nil
	case 1:
		return ds[0]
	}
	return ds
}

type multi []Display

// Show shows s on every display, in order.
func (m multi) Show(ctx context.Context, s Screen) error {
	var errs []error
	for _, d := range m {
		if err := d.Show(ctx, s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
