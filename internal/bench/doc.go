// Package bench measures the sending throughput and memory of the whole
// pipeline in one process: the SMTP client alone against an in-process
// sink server (the ceiling), then the engine with its durable ledger on
// SQLite and, when a server is given, on MySQL/MariaDB, for each number of
// recipients asked for. It backs the "skychimp bench" command and the
// package's benchmarks.
//
// Quick start:
//
//	rep, err := bench.Run(ctx, bench.Config{Sizes: []int{10_000}})
//	if err != nil { ... }
//	rep.WriteTable(os.Stdout)
package bench
