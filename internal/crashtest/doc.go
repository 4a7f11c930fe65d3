// Package crashtest proves the ledger's guarantees with real processes:
// "skychimp send" killed with SIGKILL mid-send and restarted at once, two
// send processes on one database with one of them killed, and the SMTP
// server killed and restarted mid-send. Each scenario counts what the
// SMTP server (a "skychimp bench sink" process recording every message)
// received against what the ledger says: no duplicates, nobody skipped
// silently, at most one worker count of unknown deliveries per death.
// SKYCHIMP_CRASH_N sets the number of recipients (default 3,000).
package crashtest
