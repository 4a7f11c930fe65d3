package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/skychimp/skychimp/internal/bench"
	"github.com/skychimp/skychimp/internal/newsletter"
	"github.com/skychimp/skychimp/mailing"
)

// runBench measures sending throughput and memory: the SMTP client alone
// against an in-process sink, then the engine with its ledger on SQLite
// and on MySQL/MariaDB, for each number of recipients.
func runBench(ctx context.Context, e env, args []string) error {
	if len(args) > 0 && args[0] == "sink" {
		return runBenchSink(e, args[1:])
	}
	fs := newFlags(e, "bench")
	sizes := fs.String("n", "10000,100000", "numbers of recipients to measure, comma-separated")
	workers := fs.Int("workers", 32, "concurrent sends")
	conns := fs.Int("connections", 8, "SMTP connections in the pool")
	claim := fs.Int("claim-batch", 0, "deliveries the engine leases at a time (0: the engine's default)")
	mysqlDSN := fs.String("mysql", e.getenv(bench.MySQLEnv), "MySQL/MariaDB DSN (go-sql-driver form) on which to create and drop a scratch database; empty skips MySQL (env "+bench.MySQLEnv+")")
	cases := fs.String("cases", "smtp,sqlite,mysql", "cases to run, comma-separated: smtp (the ceiling), sqlite, mysql")
	repeat := fs.Int("repeat", 1, "run every case this many times and keep its fastest run (for a shared machine)")
	bodyFile := fs.String("body", "", "file with the message body (an HTML template; {{.Name}}, {{.Email}} and {{.UnsubscribeURL}} personalise it); default: a 5 KB newsletter")
	subject := fs.String("subject", "", "the message subject template (default: the newsletter's)")
	bodyKB := fs.Int("body-kb", 0, "instead of --body: a generated body of this many KB")
	html := fs.Bool("html", true, "with --body-kb: an HTML body (false: plain text without markup)")
	smtpURL := fs.String("smtp", "", "send to this SMTP server (smtp://host:port?...) instead of a sink; never read from SKYCHIMP_SMTP")
	sink := fs.String("sink", "process", "where the sink runs without --smtp: process (a child process, its CPU apart) or inprocess")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg := bench.Config{Workers: *workers, Connections: *conns, ClaimBatch: *claim, MySQL: *mysqlDSN, Repeat: *repeat, Log: e.stderr,
		Subject: *subject, SMTP: *smtpURL}
	switch {
	case *bodyFile != "" && *bodyKB != 0:
		return usagef("--body and --body-kb: give one of them")
	case *bodyFile != "":
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			return usagef("--body: %v", err)
		}
		cfg.Body = string(b)
	case *bodyKB < 0 || *bodyKB > 1024:
		return usagef("--body-kb %d: want 1 to 1024", *bodyKB)
	case *bodyKB > 0:
		cfg.Body = newsletter.Sized(*bodyKB)
		if !*html {
			cfg.Body = newsletter.PlainSized(*bodyKB)
		}
	}
	if cfg.Body != "" || cfg.Subject != "" {
		if _, err := mailing.ParseTemplate(mailing.Message{Subject: cmp.Or(cfg.Subject, "x"), Body: cmp.Or(cfg.Body, "x")}); err != nil {
			return usagef("the message: %v", err)
		}
	}
	switch *sink {
	case "process":
		if cfg.SMTP == "" {
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("bench: cannot start the sink process: %w", err)
			}
			cfg.SinkCommand = []string{self, "bench", "sink"}
		}
	case "inprocess":
	default:
		return usagef("--sink %q: want process or inprocess", *sink)
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return usagef("--n %q: want positive whole numbers separated by commas", *sizes)
		}
		cfg.Sizes = append(cfg.Sizes, n)
	}
	for _, c := range strings.Split(*cases, ",") {
		switch c = strings.TrimSpace(c); c {
		case bench.CaseSMTP, bench.CaseSQLite, bench.CaseMySQL:
			cfg.Cases = append(cfg.Cases, c)
		default:
			return usagef("--cases %q: want smtp, sqlite and/or mysql", *cases)
		}
	}
	for _, n := range cfg.Sizes {
		if n > 10_000_000 {
			return usagef("--n %d: at most 10,000,000", n)
		}
	}
	if *workers < 1 || *workers > 1024 {
		return usagef("--workers %d: want a whole number from 1 to 1024", *workers)
	}
	if *conns < 1 || *conns > 1024 {
		return usagef("--connections %d: want a whole number from 1 to 1024", *conns)
	}
	if *repeat < 1 || *repeat > 100 {
		return usagef("--repeat %d: want a whole number from 1 to 100", *repeat)
	}
	if *claim < 0 {
		return usagef("--claim-batch %d: want 0 or more", *claim)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return usagef("--cpuprofile: %v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	rep, err := bench.Run(ctx, cfg)
	if *asJSON {
		if jerr := json.NewEncoder(e.stdout).Encode(rep); jerr != nil {
			return jerr
		}
	} else if len(rep.Results) > 0 || err == nil {
		if terr := rep.WriteTable(e.stdout); terr != nil {
			return terr
		}
	}
	return err
}

// runBenchSink is the SMTP sink of a bench run, started by bench itself in
// a child process: it accepts and counts every message (see
// bench.ServeSink).
func runBenchSink(e env, args []string) error {
	fs := newFlags(e, "bench sink")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	record := fs.String("record", "", "append a line with the recipients of every accepted message to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return bench.ServeSink(*addr, *record, e.stdin, e.stdout)
}
