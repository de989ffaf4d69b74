package hidscan

import "fmt"

// KeyEvent is what one boot-keyboard report means for the code being typed:
// a character, or a reason the code in progress can no longer be trusted.
type KeyEvent struct {
	Char    byte   // the typed character; 0 when Garbled is set
	Garbled string // why keys were lost or could not be translated
}

// Boot-keyboard report layout (HID 1.11, Appendix B.1): modifier bits, a
// reserved byte, then up to six key codes currently held.
const (
	bootReportLen = 8

	modLeftCtrl   = 0x01
	modLeftShift  = 0x02
	modLeftAlt    = 0x04
	modLeftGUI    = 0x08
	modRightCtrl  = 0x10
	modRightShift = 0x20
	modRightAlt   = 0x40
	modRightGUI   = 0x80

	keyErrorRollOver = 0x01 // too many keys: the report holds no real keys
	keyPOSTFail      = 0x02
	keyErrorUndef    = 0x03
	keyCapsLock      = 0x39
)

// KeyboardDecoder turns boot-protocol keyboard input reports (what a
// keyboard-wedge scanner sends) into typed characters, US layout.
//
// A character is typed when its key appears in a report and was not held in
// the previous one: a scanner holding a key repeats the same report, and
// the host-side auto-repeat a desktop would add is deliberately absent. A
// release report (no keys) ends the hold. A key pressed with Ctrl, Alt or
// GUI (Alt+keypad is how wedges type non-ASCII), an unmapped key, or a
// rollover/error report yields a Garbled event, because dropping it would
// yield a code that was never scanned.
type KeyboardDecoder struct {
	// ReportID, if non-zero, is the report ID the keyboard collection
	// uses; reports with another ID (a consumer-control collection) are
	// ignored, and the ID byte is removed before decoding.
	ReportID byte

	held [6]byte // keys held in the last valid report
	caps bool    // Caps Lock toggled by the scanner
}

// Reset forgets held keys and Caps Lock, as after a reconnect.
func (d *KeyboardDecoder) Reset() { *d = KeyboardDecoder{ReportID: d.ReportID} }

// Decode returns the events of one input report, in key-slot order.
func (d *KeyboardDecoder) Decode(report []byte) []KeyEvent {
	if d.ReportID != 0 {
		if len(report) == 0 || report[0] != d.ReportID {
			return nil
		}
		report = report[1:]
	}
	if len(report) < bootReportLen {
		return []KeyEvent{{Garbled: fmt.Sprintf("short keyboard report (%d bytes)", len(report))}}
	}
	mods, keys := report[0], report[2:bootReportLen]
	for _, k := range keys {
		if k == keyErrorRollOver || k == keyPOSTFail || k == keyErrorUndef {
			// Phantom state: the held keys are unknown. Keep the last
			// known state and distrust the code in progress.
			return []KeyEvent{{Garbled: fmt.Sprintf("keyboard error report (0x%02x)", k)}}
		}
	}
	var out []KeyEvent
	for _, k := range keys {
		if k == 0 || (k >= 0xe0 && k <= 0xe7) || d.wasHeld(k) {
			continue
		}
		if k == keyCapsLock {
			d.caps = !d.caps
			continue
		}
		if mods&(modLeftCtrl|modRightCtrl|modLeftAlt|modRightAlt|modLeftGUI|modRightGUI) != 0 {
			out = append(out, KeyEvent{Garbled: fmt.Sprintf("key 0x%02x with Ctrl/Alt/GUI (modifiers 0x%02x)", k, mods)})
			continue
		}
		c := usageChar(k, mods&(modLeftShift|modRightShift) != 0, d.caps)
		if c == 0 {
			out = append(out, KeyEvent{Garbled: fmt.Sprintf("unmapped key 0x%02x", k)})
			continue
		}
		out = append(out, KeyEvent{Char: c})
	}
	copy(d.held[:], keys)
	return out
}

func (d *KeyboardDecoder) wasHeld(k byte) bool {
	for _, h := range d.held {
		if h == k {
			return true
		}
	}
	return false
}

// Printable punctuation on the US layout, unshifted and shifted, for usages
// 0x2d..0x38 (0x32, "Non-US #", has no US meaning and stays unmapped).
var punct = [...][2]byte{
	{'-', '_'}, {'=', '+'}, {'[', '{'}, {']', '}'}, {'\\', '|'}, {0, 0},
	{';', ':'}, {'\'', '"'}, {'`', '~'}, {',', '<'}, {'.', '>'}, {'/', '?'},
}

// usageChar maps a Keyboard/Keypad page usage to the character a US layout
// types; 0 when it types none we accept. The keypad is read as digits
// (Num Lock on), which is how scanners that use it mean it.
func usageChar(k byte, shift, caps bool) byte {
	switch {
	case k >= 0x04 && k <= 0x1d: // a..z
		c := 'a' + k - 0x04
		if shift != caps {
			c -= 'a' - 'A'
		}
		return c
	case k >= 0x1e && k <= 0x27: // 1..9, 0
		if shift {
			return "!@#$%^&*()"[k-0x1e]
		}
		return "1234567890"[k-0x1e]
	case k == 0x28, k == 0x58: // Enter, keypad Enter
		return '\r'
	case k == 0x2b:
		return '\t'
	case k == 0x2c:
		return ' '
	case k >= 0x2d && k <= 0x38:
		p := punct[k-0x2d]
		if shift {
			return p[1]
		}
		return p[0]
	case k == 0x54:
		return '/'
	case k == 0x55:
		return '*'
	case k == 0x56:
		return '-'
	case k == 0x57:
		return '+'
	case k >= 0x59 && k <= 0x62: // keypad 1..9, 0
		return "1234567890"[k-0x59]
	case k == 0x63:
		return '.'
	}
	return 0
}
