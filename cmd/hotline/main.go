// Command hotline runs the consumer-rights hotline gateway and its tools.
//
//	hotline serve                      run the server (environment and .env)
//	hotline check FILE                 verify a case log file (bbolt + invariants)
//	hotline backup FILE                copy the running server's case log to FILE
//	hotline ivr check FILE             check an IVR menu file
//	hotline simulate call|sms ...      a terminal phone speaking Twilio's protocol
//	hotline demo                       fill a fresh database with a realistic day
//
// main only wires: every behaviour lives in the packages it calls.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	var ue usageError
	switch {
	case err == nil:
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "hotline:", err)
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "hotline:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  hotline serve                       run the server (configuration: environment and .env)
  hotline check FILE                  verify a case log file
  hotline backup FILE [-url U] [-token T]
                                      copy the running server's case log to FILE
  hotline ivr check FILE              check an IVR menu file
  hotline simulate call --from N [--lang en] [--url U]
  hotline simulate sms --from N [--url U] "TEXT"
  hotline demo [-db FILE]             fill a fresh database with a day of a hotline
`

type usageError string

func (e usageError) Error() string { return string(e) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("no command")
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stderr)
	case "check":
		return cmdCheck(args[1:], stdout)
	case "backup":
		return cmdBackup(ctx, args[1:], stdout)
	case "ivr":
		if len(args) < 2 || args[1] != "check" {
			return usageError("ivr: want `ivr check FILE`")
		}
		return cmdIVRCheck(args[2:], stdout)
	case "simulate":
		return cmdSimulate(ctx, args[1:], stdin, stdout)
	case "demo":
		return cmdDemo(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError(fmt.Sprintf("unknown command %q", args[0]))
}
