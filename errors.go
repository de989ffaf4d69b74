package pos

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller should do about it. Kinds are
// only ever appended, so stored or logged numbers keep their meaning.
type Kind uint8

const (
	Other        Kind = iota // unclassified; treat as Internal
	Invalid                  // bad input: fix the request, nothing changed
	NotFound                 // no such payment, device or order
	Conflict                 // the request contradicts current state (cancel a succeeded payment)
	Unavailable              // a dependency could not be reached and nothing was sent: safe to retry
	Declined                 // the gateway refused definitively (insufficient funds, bad code)
	Unknown                  // sent, outcome unknown: query, never pay again
	Internal                 // a bug or broken invariant
	Unauthorized             // missing or wrong credentials (local API token)
)

var kindNames = [...]string{"other", "invalid", "not_found", "conflict", "unavailable", "declined", "unknown", "internal", "unauthorized"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Retryable reports whether repeating the same operation may succeed. This is
// a property of the error, not of the call site (STYLE rule 7).
func (k Kind) Retryable() bool { return k == Unavailable || k == Unknown }

// Error is the one error type that crosses package boundaries.
type Error struct {
	Op   string // the operation that failed, "mmsp.Micropay"
	Kind Kind
	Err  error // the underlying cause; may be nil
}

// E builds an *Error wrapping err.
func E(kind Kind, op string, err error) *Error { return &Error{Op: op, Kind: kind, Err: err} }

// Errorf builds an *Error with a formatted message as its cause.
func Errorf(kind Kind, op, format string, args ...any) *Error {
	return &Error{Op: op, Kind: kind, Err: fmt.Errorf(format, args...)}
}

func (e *Error) Error() string {
	switch {
	case e.Op != "" && e.Err != nil:
		return e.Op + ": " + e.Err.Error()
	case e.Err != nil:
		return e.Err.Error()
	case e.Op != "":
		return e.Op + ": " + e.Kind.String()
	}
	return e.Kind.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Message is the cause without the operation chain, for showing to a cashier.
func (e *Error) Message() string {
	var inner *Error
	if errors.As(e.Err, &inner) {
		return inner.Message()
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Kind.String()
}

// KindOf returns the kind of the outermost classified error in err's chain,
// Other when there is none.
func KindOf(err error) Kind {
	var e *Error
	for err != nil {
		if errors.As(err, &e) {
			if e.Kind != Other {
				return e.Kind
			}
			err = e.Err
			continue
		}
		return Other
	}
	return Other
}

// Match reports whether err is a *pos.Error of the given kind; for tests.
func Match(kind Kind, err error) bool { return err != nil && KindOf(err) == kind }
