package evdevscan

import "fmt"

// Linux input event types and key codes (linux/input-event-codes.h) that a
// keyboard-wedge scanner uses.
const (
	evKey = 0x01

	keyLeftCtrl   = 29
	keyLeftShift  = 42
	keyRightShift = 54
	keyLeftAlt    = 56
	keyCapsLock   = 58
	keyRightCtrl  = 97
	keyRightAlt   = 100
	keyLeftMeta   = 125
	keyRightMeta  = 126
)

// keymap is the US layout: key code -> unshifted, shifted character.
var keymap = map[uint16][2]byte{
	2: {'1', '!'}, 3: {'2', '@'}, 4: {'3', '#'}, 5: {'4', '$'}, 6: {'5', '%'},
	7: {'6', '^'}, 8: {'7', '&'}, 9: {'8', '*'}, 10: {'9', '('}, 11: {'0', ')'},
	12: {'-', '_'}, 13: {'=', '+'}, 15: {'\t', '\t'},
	16: {'q', 'Q'}, 17: {'w', 'W'}, 18: {'e', 'E'}, 19: {'r', 'R'}, 20: {'t', 'T'},
	21: {'y', 'Y'}, 22: {'u', 'U'}, 23: {'i', 'I'}, 24: {'o', 'O'}, 25: {'p', 'P'},
	26: {'[', '{'}, 27: {']', '}'}, 28: {'\r', '\r'},
	30: {'a', 'A'}, 31: {'s', 'S'}, 32: {'d', 'D'}, 33: {'f', 'F'}, 34: {'g', 'G'},
	35: {'h', 'H'}, 36: {'j', 'J'}, 37: {'k', 'K'}, 38: {'l', 'L'},
	39: {';', ':'}, 40: {'\'', '"'}, 41: {'`', '~'}, 43: {'\\', '|'},
	44: {'z', 'Z'}, 45: {'x', 'X'}, 46: {'c', 'C'}, 47: {'v', 'V'}, 48: {'b', 'B'},
	49: {'n', 'N'}, 50: {'m', 'M'}, 51: {',', '<'}, 52: {'.', '>'}, 53: {'/', '?'},
	55: {'*', '*'}, 57: {' ', ' '},
	// Keypad, read as digits (Num Lock on).
	71: {'7', '7'}, 72: {'8', '8'}, 73: {'9', '9'}, 74: {'-', '-'}, 75: {'4', '4'},
	76: {'5', '5'}, 77: {'6', '6'}, 78: {'+', '+'}, 79: {'1', '1'}, 80: {'2', '2'},
	81: {'3', '3'}, 82: {'0', '0'}, 83: {'.', '.'}, 96: {'\r', '\r'}, 98: {'/', '/'},
}

// KeyDecoder turns EV_KEY events into typed characters, US layout. Key
// auto-repeat events are ignored, so a held key types once; a key pressed
// with Ctrl, Alt or Meta held, or an unmapped key, is reported as garbled
// so the code in progress is dropped rather than emitted without it.
type KeyDecoder struct {
	shift, ctrl, alt, meta int // keys held of each kind
	caps                   bool
}

// Reset forgets held modifiers, as after a reconnect.
func (d *KeyDecoder) Reset() { *d = KeyDecoder{} }

// Decode takes one input event. It returns the typed character, or a
// non-empty garbled reason, or neither.
func (d *KeyDecoder) Decode(typ, code uint16, value int32) (char byte, garbled string) {
	if typ != evKey || value == 2 { // not a key, or auto-repeat
		return 0, ""
	}
	press := value == 1
	step := -1
	if press {
		step = 1
	}
	switch code {
	case keyLeftShift, keyRightShift:
		d.shift = max(d.shift+step, 0)
		return 0, ""
	case keyLeftCtrl, keyRightCtrl:
		d.ctrl = max(d.ctrl+step, 0)
		return 0, ""
	case keyLeftAlt, keyRightAlt:
		d.alt = max(d.alt+step, 0)
		return 0, ""
	case keyLeftMeta, keyRightMeta:
		d.meta = max(d.meta+step, 0)
		return 0, ""
	case keyCapsLock:
		if press {
			d.caps = !d.caps
		}
		return 0, ""
	}
	if !press {
		return 0, ""
	}
	if d.ctrl > 0 || d.alt > 0 || d.meta > 0 {
		return 0, fmt.Sprintf("key %d with Ctrl/Alt/Meta", code)
	}
	m, ok := keymap[code]
	if !ok {
		return 0, fmt.Sprintf("unmapped key %d", code)
	}
	c := m[0]
	if d.shift > 0 {
		c = m[1]
	}
	if d.caps && c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	} else if d.caps && c >= 'A' && c <= 'Z' && m[0] >= 'a' {
		c += 'a' - 'A'
	}
	return c, ""
}
