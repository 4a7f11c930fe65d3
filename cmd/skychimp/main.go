// Command skychimp runs the mailing service: the admin panel, the scheduler
// and the sending engine, and the command-line tasks around them.
//
//	skychimp serve [--demo]     the admin panel, public pages, scheduler and engine
//	skychimp migrate            create or upgrade the database schema
//	skychimp send --mailing ID  send one mailing's current run now
//	skychimp send --due         one pass over everything that is due
//	skychimp user add --email E --role R [--password-stdin]
//	skychimp version            print the version
//
// Every command takes --db (or SKYCHIMP_DB): sqlite:PATH (the default,
// sqlite:skychimp.db) or mysql:DSN with a go-sql-driver DSN.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // mailings name IANA zones; do not depend on the host's zoneinfo
)

// exitUsage is the exit code for bad flags, bad configuration and an
// unreachable database; exitFailure for a command that failed while running.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is a problem the person running the command must fix.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// env is the process environment, injectable for tests.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the admin panel, public pages, scheduler and engine", runServe},
		{"migrate", "create or upgrade the database schema", runMigrate},
		{"send", "send one mailing now (--mailing ID) or everything due (--due)", runSend},
		{"user", "add a user: user add --email E --role R [--password-stdin]", runUser},
		{"version", "print the version", runVersion},
		{"bench", "measure sending throughput and memory", runBench},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, env{getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command and returns the process exit code. Every failure
// is one line on stderr.
func run(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			return report(e.stderr, err)
		}
	}
	fmt.Fprintf(e.stderr, "skychimp: unknown command %q (run skychimp help)\n", args[0])
	return exitUsage
}

func report(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " ")
	fmt.Fprintf(w, "skychimp: %s\n", msg)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailure
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: skychimp <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun skychimp <command> -h for a command's flags.")
}

// newFlags returns a flag set whose errors are returned, not printed twice.
func newFlags(e env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("skychimp "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fmt.Fprintf(out, "usage of %s:\n", fs.Name())
			fs.PrintDefaults()
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// envDefault returns the environment's value for key, or def.
func envDefault(e env, key, def string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return def
}
