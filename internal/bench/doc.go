// Package bench measures the sending throughput and memory of the whole
// pipeline in one process, for each number of recipients asked for:
//
//   - smtp: the ceiling, the SMTP client alone (mailing/smtpmailer) sending
//     the same personalised envelopes the engine would send, from Workers
//     goroutines over Connections pooled connections, to an in-process sink
//     (internal/smtptest);
//   - sqlite: the engine with its durable ledger on a fresh SQLite file: N
//     clients of one owner, one message and one mailing due now, then one
//     timed RunDue pass from the call (which opens the run: N ledger rows)
//     until it returns with every message sent and recorded;
//   - mysql: the same on a database created for the run on a MySQL or
//     MariaDB server and dropped after it.
//
// Each engine run is checked: the sink accepted N messages, and the ledger
// holds N sent deliveries and N attempts. A result gives msgs/s, the ratio
// to the ceiling at the same N, peak Go heap and resident set (sampled every
// 10 ms during the timed phase, after a collection), the time to the first
// message accepted, the wall and CPU time per recipient, and the ledger
// write transactions per 100 recipients. On a machine shared with other
// work, Config.Repeat keeps each case's fastest run, and the CPU ratio
// (the ceiling's CPU time per recipient over the case's) shows the engine's
// own overhead undistorted.
//
// It backs "skychimp bench"; the package's benchmarks (BenchmarkCeiling,
// BenchmarkEngineSQLite, BenchmarkEngineMySQL) run 10,000 recipients per
// iteration:
//
//	go test -run '^$' -bench . ./internal/bench
//
// From code:
//
//	rep, err := bench.Run(ctx, bench.Config{Sizes: []int{10_000}, MySQL: dsn})
//	if err != nil { ... }
//	rep.WriteTable(os.Stdout)
package bench
