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
	fmt.Fprintf(w, "%s, %d CPUs, %d workers, %d SMTP connections\n\n", r.GoVersion, r.CPUs, r.Workers, r.Connections)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tN\tseconds\tmsgs/s\tratio\tpeak heap MB\tpeak RSS MB\tfirst msg ms\tµs/rcpt\tcpu µs/rcpt\ttx/100 rcpt\t")
	for _, res := range r.Results {
		ratio := "-"
		if res.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", res.Ratio)
		}
		rss := "-"
		if res.PeakRSSMB > 0 {
			rss = fmt.Sprintf("%.1f", res.PeakRSSMB)
		}
		writes := "-"
		if res.LedgerWrites > 0 {
			writes = fmt.Sprintf("%.1f", res.LedgerWrites)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%s\t%.1f\t%s\t%.1f\t%.1f\t%.1f\t%s\t\n",
			res.Case, res.N, res.Seconds, res.MsgsPerSec, ratio, res.PeakHeapMB, rss,
			res.FirstMessageMS, res.MicrosPerRecipient, res.CPUMicrosPerRecipient, writes)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "\nskipped: %s\n", strings.Join(r.Skipped, "; "))
	}
	return nil
}
