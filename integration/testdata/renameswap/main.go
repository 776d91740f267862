// Command renameswap exchanges two paths with renameat2(RENAME_EXCHANGE)
// in a loop, forever: the attacker of the hostile cp tests, run inside a
// container (busybox has no tool for it).
package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: renameswap A B")
		os.Exit(2)
	}
	// Signal readiness once the first exchange worked.
	if err := unix.Renameat2(unix.AT_FDCWD, os.Args[1], unix.AT_FDCWD, os.Args[2], unix.RENAME_EXCHANGE); err != nil {
		fmt.Fprintln(os.Stderr, "renameswap:", err)
		os.Exit(1)
	}
	fmt.Println("swapping")
	for {
		_ = unix.Renameat2(unix.AT_FDCWD, os.Args[1], unix.AT_FDCWD, os.Args[2], unix.RENAME_EXCHANGE)
	}
}
