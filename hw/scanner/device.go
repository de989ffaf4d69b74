package scanner

import (
	"fmt"
	"strconv"
	"strings"
)

// USBID is a USB vendor or product ID. It reads and prints as four hex
// digits ("1a86"), as lsusb and udev rules show it.
type USBID uint16

// String is the ID as four lower-case hex digits.
func (id USBID) String() string { return fmt.Sprintf("%04x", uint16(id)) }

// MarshalText prints the ID as four hex digits.
func (id USBID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText accepts hex with or without "0x", any case: "1A86", "0x1a86".
func (id *USBID) UnmarshalText(b []byte) error {
	v, err := ParseUSBID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ParseUSBID parses a hex USB ID with or without "0x", in any case.
func ParseUSBID(s string) (USBID, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	if t == "" || len(t) > 4 {
		return 0, fmt.Errorf("USB ID %q: want 1 to 4 hex digits", s)
	}
	v, err := strconv.ParseUint(t, 16, 16)
	if err != nil {
		return 0, fmt.Errorf("USB ID %q: want 1 to 4 hex digits", s)
	}
	return USBID(v), nil
}

// Device is one scanner-capable device found on the till, for `posagent
// devices` and the API. serialscan.List and hidscan.List return them.
type Device struct {
	Kind         string `json:"kind"` // "serial", "hid", "evdev"
	Path         string `json:"path"` // /dev/ttyACM0, a libusb path "0001:0004:00", /dev/input/event3
	USB          bool   `json:"usb"`  // VID and PID are known
	VID          USBID  `json:"vid"`
	PID          USBID  `json:"pid"`
	Serial       string `json:"serial,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Product      string `json:"product,omitempty"`
	// Interface is the USB interface number of a HID device; -1 elsewhere.
	// A device with several HID interfaces is configured by this number,
	// because Linux does not report the usage page.
	Interface int `json:"interface"`
}
