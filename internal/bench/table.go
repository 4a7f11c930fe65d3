package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the results as a table, one row per case and size,
// followed by the skipped cases.
func (r Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s, %d CPUs, %d workers, %d SMTP connections", r.GoVersion, r.CPUs, r.Workers, r.Connections)
	if r.Repeat > 1 {
		fmt.Fprintf(w, ", best of %d runs (memory and first message: worst)", r.Repeat)
	}
	fmt.Fprint(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tN\tseconds\tmsgs/s\tratio\tpeak heap MB\tpeak RSS MB\tfirst msg ms\tµs/rcpt\tcpu µs/rcpt\tcpu ratio\ttx/100 rcpt\t")
	opt := func(v float64, format string) string {
		if v <= 0 {
			return "-"
		}
		return fmt.Sprintf(format, v)
	}
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%s\t%.1f\t%s\t%.1f\t%.1f\t%.1f\t%s\t%s\t\n",
			res.Case, res.N, res.Seconds, res.MsgsPerSec, opt(res.Ratio, "%.2f"), res.PeakHeapMB, opt(res.PeakRSSMB, "%.1f"),
			res.FirstMessageMS, res.MicrosPerRecipient, res.CPUMicrosPerRecipient, opt(res.CPURatio, "%.2f"),
			opt(res.LedgerWrites, "%.1f"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nratio: msgs/s over the smtp ceiling's at the same N; cpu ratio: the same for the process's CPU time per recipient")
	fmt.Fprintln(w, "(unskewed by other load; for mysql it leaves out the database server's CPU); tx: ledger write transactions.")
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "skipped: %s\n", strings.Join(r.Skipped, "; "))
	}
	return nil
}
