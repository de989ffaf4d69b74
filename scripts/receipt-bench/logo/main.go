// Command logo writes the standard receipt's logo (printertest.Logo) as a
// PNG, for the receiptline comparison in ../run.sh.
package main

import (
	"image/png"
	"log"
	"os"

	"github.com/posagent/posagent/hw/printer/printertest"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: logo OUT.png")
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, printertest.Logo()); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
