// Command generate writes the Kinsta fleet Grafana dashboard, built with the
// grafana-foundation-sdk in internal/fleet, to dashboards/kinsta.json.
//
// Run it from the grafana/ directory:
//
//	go run ./generate            # or: go generate ./...
//	go run ./generate -out -     # print to stdout
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/kinsta-exporter/kinsta_exporter/grafana/internal/fleet"
)

func main() {
	out := flag.String("out", "dashboards/kinsta.json", `output file ("-" for stdout)`)
	flag.Parse()

	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	b, err := fleet.JSON()
	if err != nil {
		return err
	}
	if out == "-" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(out, b, 0o644)
}
