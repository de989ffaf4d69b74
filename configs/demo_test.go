package configs

import "testing"

func TestDemoConfigParses(t *testing.T) {
	c, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Gateways) != 3 || c.Gateways[0].Kind != "mmsp" || !c.Gateways[0].Default || c.Printer == nil || c.Printer.Kind != "virtual" {
		t.Errorf("the demo config is not the demo's: %+v", c)
	}
}
