package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
)

// `berth kube` lives in a program of its own, berth-kube, which berth
// execs with its own arguments, as the docker CLI runs its plugins. The
// Kubernetes types it needs (k8s.io/api, apimachinery and what they pull
// in) are most of berth's size and package initialisation: linked into
// berth, they made every `berth run` load an 8 MB larger binary and spend
// about 1.4 ms more CPU before main (bench/README.md, "The CLI's own
// cost"). berth-kube is the same command tree with the real `kube`
// command, so `berth kube ...`, its help, errors, exit statuses and shell
// completion are what they were.

// KubeProgram is the name of the program that runs `berth kube`.
const KubeProgram = "berth-kube"

// newKubePluginCommand returns berth's `kube` command: its name and summary
// for the command list; running it hands over to berth-kube (execute does that
// before cobra sees the arguments, so RunE is only a fallback).
func newKubePluginCommand(*command.Cli) *cobra.Command {
	return &cobra.Command{
		Use:                "kube COMMAND",
		Annotations:        map[string]string{kubePluginAnnotation: "true"},
		Short:              "Generate Kubernetes YAML from containers, and play it on Berth",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New(command.ProgramName + ": kube: internal error: not handed to " + KubeProgram)
		},
	}
}

// kubePluginAnnotation marks berth's `kube` command, the one that hands
// over (berth-kube's own does not).
const kubePluginAnnotation = "berth.kube-plugin"

// isKubePlugin reports whether args (berth's, without the program name)
// run root's `kube` command, or ask for its help or shell completions. False
// in berth-kube, whose `kube` command is the real one.
func isKubePlugin(root *cobra.Command, args []string) bool {
	if len(args) > 0 {
		switch args[0] {
		case cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd, "help":
			args = args[1:]
		}
	}
	name := commandName(root, args)
	if name == "" {
		return false
	}
	c, _, err := root.Find([]string{name})
	return err == nil && c != root && c.Annotations[kubePluginAnnotation] == "true"
}

// kubeProgramPath finds berth-kube: next to the running berth (its real
// path, symlinks resolved), else on PATH.
func kubeProgramPath(self string, lookPath func(string) (string, error)) (string, error) {
	var next string
	if self != "" {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		next = filepath.Join(filepath.Dir(self), KubeProgram)
		if fi, err := os.Stat(next); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return next, nil
		}
	}
	if p, err := lookPath(KubeProgram); err == nil {
		return p, nil
	}
	if next != "" {
		return "", fmt.Errorf("%s kube needs the %s program, which is neither at %s nor on PATH", command.ProgramName, KubeProgram, next)
	}
	return "", fmt.Errorf("%s kube needs the %s program, which is not on PATH", command.ProgramName, KubeProgram)
}

// runKubePlugin runs berth-kube with args. On the process's own streams it
// replaces berth (exec), so signals, the terminal and the exit status are
// berth-kube's own; on other streams (tests) it runs as a child.
func runKubePlugin(cli *command.Cli, args []string) int {
	self, _ := os.Executable()
	path, err := kubeProgramPath(self, exec.LookPath)
	if err != nil {
		_, _ = fmt.Fprintln(cli.Err, err)
		return 1
	}
	if cli.In == os.Stdin && cli.Out == os.Stdout && cli.Err == os.Stderr {
		argv := append([]string{path}, args...)
		err = syscall.Exec(path, argv, os.Environ())
		_, _ = fmt.Fprintf(cli.Err, "%s: running %s: %v\n", command.ProgramName, path, err)
		return 1
	}
	c := exec.Command(path, args...)
	c.Stdin, c.Stdout, c.Stderr = cli.In, cli.Out, cli.Err
	err = c.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode()
	default:
		_, _ = fmt.Fprintf(cli.Err, "%s: running %s: %v\n", command.ProgramName, path, err)
		return 1
	}
}
