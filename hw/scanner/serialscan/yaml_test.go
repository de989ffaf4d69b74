package serialscan

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gopkg.in/yaml.v3"

	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/framing"
)

// The options as an integrator writes them in posagent.yaml (configs
// decodes each scanner section into this struct, refusing unknown keys).
func TestOptionsFromYAML(t *testing.T) {
	const doc = `
vid: 1a86
pid: 0x7523
serial: "A50285BI"
baud: 115200
parity: even
stop_bits: 2
suffix: crlf
inter_char_timeout: 50ms
strip_aim: true
max_length: 32
reconnect: {min: 100ms, max: 2s}
`
	var o Options
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&o); err != nil {
		t.Fatal(err)
	}
	want := Options{
		VID: 0x1a86, PID: 0x7523, Serial: "A50285BI", Baud: 115200, Parity: ParityEven, StopBits: 2,
		Framing: framing.Options{Suffix: framing.SuffixCRLF, InterCharTimeout: 50 * time.Millisecond, StripAIM: true, MaxLen: 32},
		Backoff: scanner.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second},
	}
	if diff := cmp.Diff(want, o, cmpopts.IgnoreFields(Options{}, "Logger")); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	if err := o.Validate(); err != nil {
		t.Error(err)
	}
}
