package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.bug.st/serial"

	"github.com/posagent/posagent"
)

// DefaultBaud is the serial speed when none is configured: the factory
// setting of most receipt printers with a serial port.
const DefaultBaud = 19200

// Serial is a printer on a serial port (RS-232 or a USB serial adapter),
// 8 data bits, no parity, one stop bit.
type Serial struct {
	path string
	port serial.Port
	mu   sync.Mutex
	// ReadTimeout bounds the wait for a status answer; default
	// DefaultReadTimeout.
	ReadTimeout time.Duration
}

var _ Querier = (*Serial)(nil)

// OpenSerial opens the port at path at baud (DefaultBaud if 0).
func OpenSerial(path string, baud int) (*Serial, error) {
	const op = "transport.OpenSerial"
	if path == "" {
		return nil, pos.Errorf(pos.Invalid, op, "no serial port")
	}
	if baud == 0 {
		baud = DefaultBaud
	}
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, serialError(op, path, err)
	}
	return &Serial{path: path, port: p}, nil
}

// serialError translates go.bug.st/serial errors where they enter.
func serialError(op, path string, err error) error {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.PortNotFound:
			return pos.E(pos.NotFound, op, fmt.Errorf("printer %s: %w", path, err))
		case serial.InvalidSpeed, serial.InvalidDataBits, serial.InvalidParity, serial.InvalidStopBits, serial.InvalidSerialPort:
			return pos.E(pos.Invalid, op, fmt.Errorf("printer %s: %w", path, err))
		}
	}
	return pos.E(pos.Unavailable, op, fmt.Errorf("printer %s: %w", path, err))
}

// Write sends b and waits until it has left the port.
func (s *Serial) Write(ctx context.Context, b []byte) error {
	const op = "transport.Serial.Write"
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return pos.E(pos.Unavailable, op, err)
	}
	for len(b) > 0 {
		n, err := s.port.Write(b)
		if err != nil {
			return serialError(op, s.path, err)
		}
		b = b[n:]
	}
	return nil
}

// Query sends req and reads len(resp) bytes of answer.
func (s *Serial) Query(ctx context.Context, req, resp []byte) error {
	const op = "transport.Serial.Query"
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.ReadTimeout
	if rt <= 0 {
		rt = DefaultReadTimeout
	}
	dl := deadline(ctx, rt)
	if err := s.port.ResetInputBuffer(); err != nil {
		return serialError(op, s.path, err)
	}
	if _, err := s.port.Write(req); err != nil {
		return serialError(op, s.path, err)
	}
	for n := 0; n < len(resp); {
		left := time.Until(dl)
		if left <= 0 {
			return pos.Errorf(pos.Unavailable, op, "printer %s did not answer in %v (%d of %d bytes)", s.path, rt, n, len(resp))
		}
		if err := s.port.SetReadTimeout(left); err != nil {
			return serialError(op, s.path, err)
		}
		m, err := s.port.Read(resp[n:])
		if err != nil {
			return serialError(op, s.path, err)
		}
		n += m
	}
	return nil
}

// Close closes the port.
func (s *Serial) Close() error { return s.port.Close() }
