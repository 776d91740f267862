// Command berth is the command-line client of the berth container engine. It
// speaks the Docker Engine API to berthd and mimics the docker CLI's flags,
// output and exit statuses.
package main

import (
	"context"
	"os"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/pkg/runtrace"
)

func main() {
	runtrace.Mark("cli main")
	code := cli.Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	runtrace.Mark("cli exit")
	os.Exit(code)
}
