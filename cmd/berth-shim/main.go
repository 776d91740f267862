// Command berth-shim is the per-container supervisor berthd starts, as
// `berth-shim shim STATE-DIR`. It is the same supervisor as `berthd shim
// STATE-DIR`, in a program of its own that links only the shim: it starts
// in less time than the daemon's binary, once per container run.
package main

import (
	"fmt"
	"os"

	"github.com/berth-project/berth/daemon/shim"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "shim" {
		fmt.Fprintln(os.Stderr, "usage: berth-shim shim STATE-DIR (berthd starts it, one per running container)")
		os.Exit(2)
	}
	os.Exit(shim.Run(os.Args[2]))
}
