// Command berth-kube runs `berth kube generate|play|down`. berth execs it
// for `berth kube ...` (and its help and shell completions), so that the
// Kubernetes types it links are not loaded by every other berth command.
// It is berth's whole command tree with the real `kube` command: run
// directly, it behaves as berth.
package main

import (
	"context"
	"os"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/kube"
)

func main() {
	os.Exit(cli.RunKube(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, kube.NewKubeCommand))
}
