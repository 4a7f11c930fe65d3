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
	fmt.Fprintf(w, "%s, %d CPUs, %d workers, %d SMTP connections, %s", r.GoVersion, r.CPUs, r.Workers, r.Connections, r.Sink)
	if r.Repeat > 1 {
		fmt.Fprintf(w, ", best of %d runs (memory and first message: worst)", r.Repeat)
	}
	fmt.Fprint(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tN\tmsg KB\tseconds\tmsgs/s\tratio\tcpu s/1k\tcpu µs/msg\tsink cpu s/1k\tpeak RSS MB\tpeak heap MB\tfirst msg ms\ttx/100\t")
	opt := func(v float64, format string) string {
		if v <= 0 {
			return "-"
		}
		return fmt.Sprintf(format, v)
	}
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.2f\t%.0f\t%s\t%.3f\t%.1f\t%s\t%s\t%.1f\t%.1f\t%s\t\n",
			res.Case, res.N, opt(float64(res.MessageBytes)/1024, "%.1f"), res.Seconds, res.MsgsPerSec, opt(res.Ratio, "%.2f"),
			res.CPUSecondsPer1k, res.CPUMicrosPerRecipient, opt(res.SinkCPUSecondsPer1k, "%.3f"),
			opt(res.PeakRSSMB, "%.1f"), res.PeakHeapMB, res.FirstMessageMS, opt(res.LedgerWrites, "%.1f"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nratio: msgs/s over the smtp ceiling's (the SMTP client alone) at the same N in this run; cpu: CPU time of")
	fmt.Fprintln(w, "this process (user + system; for mysql without the database server's), per 1,000 messages and per message;")
	fmt.Fprintln(w, "sink cpu: the sink's own process; first msg: from the start of the send to the first message accepted;")
	fmt.Fprintln(w, "tx/100: ledger write transactions per 100 messages.")
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "skipped: %s\n", strings.Join(r.Skipped, "; "))
	}
	return nil
}
