package gateways

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"

	"github.com/posagent/posagent"
)

// Env is what the daemon gives every adapter it builds.
type Env struct {
	Logger *slog.Logger
	// HTTPClient is the transport; adapters set per-call timeouts from Timing.
	HTTPClient *http.Client
	// Dir is the directory relative paths in the options (key files) are
	// resolved against: the config file's directory.
	Dir string
}

// Factory builds a gateway from its options. decode fills the adapter's own
// typed Options struct from the config section; the adapter validates it.
type Factory func(decode func(v any) error, env Env) (Gateway, error)

var (
	mu        sync.Mutex
	factories = map[string]Factory{}
)

// Register makes an adapter available under kind. It panics on a duplicate,
// which is a wiring bug found at start.
func Register(kind string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := factories[kind]; dup {
		panic("gateways: duplicate registration of " + kind)
	}
	factories[kind] = f
}

// New builds a registered gateway.
func New(kind string, decode func(v any) error, env Env) (Gateway, error) {
	mu.Lock()
	f, ok := factories[kind]
	mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("gateways: unknown kind %q (registered: %v)", kind, Kinds())
	}
	return f(decode, env)
}

// Kinds lists registered adapter kinds, sorted.
func Kinds() []string {
	mu.Lock()
	defer mu.Unlock()
	ks := make([]string, 0, len(factories))
	for k := range factories {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// RegisterOptions registers an adapter whose configuration section decodes
// into its own Options type O: the common case, so each adapter's init is
// one line. Decoding errors are reported as pos.Invalid naming the kind.
func RegisterOptions[O any, G Gateway](kind string, newGateway func(O, Env) (G, error)) {
	Register(kind, func(decode func(v any) error, env Env) (Gateway, error) {
		var o O
		if err := decode(&o); err != nil {
			return nil, pos.Errorf(pos.Invalid, kind+".New", "options: %w", err)
		}
		return newGateway(o, env)
	})
}
