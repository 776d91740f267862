// Command berth-seccomp compiles an OCI seccomp profile (the JSON of a
// spec's linux.seccomp, on stdin) to the BPF program crun would install
// for it, on stdout. berthd runs it once per distinct profile and hands
// the result to crun in the run.oci.seccomp_bpf_data annotation, so crun
// does not compile Docker's profile with libseccomp on every start.
//
// The libseccomp calls are the ones crun 1.8 makes, in the same order,
// with the same defaults, so the exported program is byte for byte the
// one crun installs (integration test TestSeccompPrecompiledEqualsCrun):
//   - seccomp_init(default action), no filter attributes changed;
//   - seccomp_arch_add for each architecture (SCMP_ARCH_ prefix dropped,
//     lower-cased, seccomp_arch_resolve_name), EEXIST ignored;
//   - for each rule, in order: skipped when its action equals the
//     default action; errnoRet (default EPERM) only with ERRNO/TRACE;
//     names libseccomp does not know are skipped (crun warns);
//     no args: one rule; args (at most the first 6): one rule with all
//     conditions, or one rule per condition when an index repeats;
//   - seccomp_export_bpf.
//
// `berth-seccomp version` prints the libseccomp version it runs with.
//
// It is the only cgo program of Berth: berthd stays static.
package main

/*
#cgo LDFLAGS: -lseccomp
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <seccomp.h>

static uint32_t act_errno(uint32_t e) { return SCMP_ACT_ERRNO(e); }
static uint32_t act_trace(uint32_t e) { return SCMP_ACT_TRACE(e); }
static unsigned int ver_major(void) { return seccomp_version()->major; }
static unsigned int ver_minor(void) { return seccomp_version()->minor; }
static unsigned int ver_micro(void) { return seccomp_version()->micro; }
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "version" {
		fmt.Printf("%d.%d.%d\n", C.ver_major(), C.ver_minor(), C.ver_micro())
		return
	}
	if len(os.Args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: berth-seccomp < linux.seccomp.json > filter.bpf | berth-seccomp version")
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "berth-seccomp:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out *os.File) error {
	var sc specs.LinuxSeccomp
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return fmt.Errorf("reading the profile: %w", err)
	}
	if sc.DefaultAction == "" {
		return fmt.Errorf("seccomp misses the default action")
	}
	defErrno := uint32(C.EPERM)
	if sc.DefaultErrnoRet != nil {
		if !takesErrno(sc.DefaultAction) {
			return fmt.Errorf("errno value specified for action %q", sc.DefaultAction)
		}
		defErrno = uint32(*sc.DefaultErrnoRet)
	}
	defAct, err := action(sc.DefaultAction, defErrno)
	if err != nil {
		return err
	}
	ctx := C.seccomp_init(C.uint32_t(defAct))
	if ctx == nil {
		return fmt.Errorf("seccomp_init failed")
	}
	defer C.seccomp_release(ctx)

	for _, a := range sc.Architectures {
		name := strings.ToLower(strings.TrimPrefix(string(a), "SCMP_ARCH_"))
		cs := C.CString(name)
		tok := C.seccomp_arch_resolve_name(cs)
		C.free(unsafe.Pointer(cs))
		if tok == 0 {
			return fmt.Errorf("seccomp unknown architecture %q", a)
		}
		if rc := C.seccomp_arch_add(ctx, tok); rc < 0 && rc != -C.EEXIST {
			return fmt.Errorf("seccomp adding architecture %q: errno %d", a, -rc)
		}
	}

	for _, r := range sc.Syscalls {
		errno := uint32(C.EPERM)
		if r.ErrnoRet != nil {
			if !takesErrno(r.Action) {
				return fmt.Errorf("errno value specified for action %q", r.Action)
			}
			errno = uint32(*r.ErrnoRet)
		}
		act, err := action(r.Action, errno)
		if err != nil {
			return err
		}
		if act == defAct {
			continue
		}
		conds, perCond, err := conditions(r.Args)
		if err != nil {
			return err
		}
		for _, name := range r.Names {
			cs := C.CString(name)
			nr := C.seccomp_syscall_resolve_name(cs)
			C.free(unsafe.Pointer(cs))
			if nr == C.__NR_SCMP_ERROR {
				fmt.Fprintf(os.Stderr, "berth-seccomp: unknown seccomp syscall %q ignored\n", name)
				continue
			}
			if err := addRules(ctx, act, nr, conds, perCond); err != nil {
				return fmt.Errorf("seccomp rule for %q: %w", name, err)
			}
		}
	}
	if rc := C.seccomp_export_bpf(ctx, C.int(out.Fd())); rc < 0 {
		return fmt.Errorf("seccomp_export_bpf: errno %d", -rc)
	}
	return nil
}

func takesErrno(a specs.LinuxSeccompAction) bool {
	return a == specs.ActErrno || a == specs.ActTrace
}

// action maps an OCI action to libseccomp's, as crun does.
func action(a specs.LinuxSeccompAction, errno uint32) (uint32, error) {
	switch a {
	case specs.ActErrno:
		return uint32(C.act_errno(C.uint32_t(errno))), nil
	case specs.ActTrace:
		return uint32(C.act_trace(C.uint32_t(errno))), nil
	case specs.ActAllow:
		return C.SCMP_ACT_ALLOW, nil
	case specs.ActKill:
		return C.SCMP_ACT_KILL, nil
	case specs.ActTrap:
		return C.SCMP_ACT_TRAP, nil
	case specs.ActLog:
		return C.SCMP_ACT_LOG, nil
	case specs.ActKillProcess:
		return C.SCMP_ACT_KILL_PROCESS, nil
	case specs.ActKillThread:
		return C.SCMP_ACT_KILL_THREAD, nil
	}
	// SCMP_ACT_NOTIFY needs crun's listener: berthd never asks for it.
	return 0, fmt.Errorf("seccomp action %q is not supported here", a)
}

var operators = map[specs.LinuxSeccompOperator]C.enum_scmp_compare{
	specs.OpNotEqual:     C.SCMP_CMP_NE,
	specs.OpLessThan:     C.SCMP_CMP_LT,
	specs.OpLessEqual:    C.SCMP_CMP_LE,
	specs.OpEqualTo:      C.SCMP_CMP_EQ,
	specs.OpGreaterEqual: C.SCMP_CMP_GE,
	specs.OpGreaterThan:  C.SCMP_CMP_GT,
	specs.OpMaskedEqual:  C.SCMP_CMP_MASKED_EQ,
}

// conditions converts a rule's args (crun uses at most the first six),
// and says whether an argument index repeats, in which case each
// condition becomes a rule of its own.
func conditions(args []specs.LinuxSeccompArg) ([]C.struct_scmp_arg_cmp, bool, error) {
	if args == nil {
		return nil, false, nil
	}
	if len(args) > 6 {
		args = args[:6]
	}
	var count [6]int
	perCond := false
	for _, a := range args {
		if a.Index >= 6 {
			return nil, false, fmt.Errorf("invalid seccomp index %d", a.Index)
		}
		count[a.Index]++
		if count[a.Index] > 1 {
			perCond = true
			break
		}
	}
	conds := make([]C.struct_scmp_arg_cmp, 0, len(args))
	for _, a := range args {
		op, ok := operators[a.Op]
		if !ok {
			return nil, false, fmt.Errorf("seccomp get operator %q", a.Op)
		}
		conds = append(conds, C.struct_scmp_arg_cmp{
			arg:     C.uint(a.Index),
			op:      op,
			datum_a: C.scmp_datum_t(a.Value),
			datum_b: C.scmp_datum_t(a.ValueTwo),
		})
	}
	return conds, perCond, nil
}

func addRules(ctx C.scmp_filter_ctx, act uint32, nr C.int, conds []C.struct_scmp_arg_cmp, perCond bool) error {
	add := func(c []C.struct_scmp_arg_cmp) error {
		var p *C.struct_scmp_arg_cmp
		if len(c) > 0 {
			p = &c[0]
		}
		if rc := C.seccomp_rule_add_array(ctx, C.uint32_t(act), nr, C.uint(len(c)), p); rc < 0 {
			return fmt.Errorf("seccomp_rule_add_array: errno %d", -rc)
		}
		return nil
	}
	if !perCond {
		return add(conds)
	}
	for i := range conds {
		if err := add(conds[i : i+1]); err != nil {
			return err
		}
	}
	return nil
}
