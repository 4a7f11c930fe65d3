package adminhost

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/stats"
)

// A mailing's report: per run the deliveries sent, failed, unknown and
// pending (a chart and a table, times in the mailing's zone), and per
// client the latest state, the last attempt and the mail server's answer,
// paged. Users see their own mailings' reports (another's is 404),
// managers and superusers everyone's; owners and superusers get a "Resend
// to failed" button per run with failures (a manager's POST is 403).

// reportPageSize is how many clients a report page lists.
const reportPageSize = 50

// reportPage shows a mailing's report.
func (h *Host) reportPage(c *gin.Context) {
	st := stateFrom(c.Request.Context())
	if st == nil {
		h.anonymous(c)
		return
	}
	ctx := c.Request.Context()
	page := 1 // the guard checked ?page=
	if p, err := strconv.Atoi(c.Query("page")); err == nil && p > 1 {
		page = p
	}
	rep, err := h.deps.Stats.MailingReport(ctx, st.route.id, mailing.ListOptions{Limit: reportPageSize, Offset: (page - 1) * reportPageSize})
	if err != nil {
		h.pageFailed(st, err)
		return
	}
	m := rep.Mailing
	loc, err := mailing.LoadLocation(m.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	canResend := st.user.Role == accounts.RoleUser || st.user.Role == accounts.RoleSuperuser
	token := ""
	if canResend {
		for _, r := range rep.Runs {
			if r.Failed > 0 {
				token = h.newToken()
				break
			}
		}
	}
	owner := ""
	if st.user.IsStaff() {
		owner = h.ownerEmails(ctx, st, []mailing.Mailing{m})[m.OwnerID]
	}
	var flash string
	if kind, n, ok := h.takeFlash(c); ok && kind == flashResent {
		flash = flashHTML(kind, n)
	}
	content := reportHTML(rep, reportView{loc: loc, now: h.clock.Now(), page: page, token: token, owner: owner, flash: flash})
	h.render(c, 0, "Report: "+m.DisplayName(), "Deliveries per run and each client's last attempt", content)
}

// reportView is what the report's HTML needs besides the report.
type reportView struct {
	loc   *time.Location
	now   time.Time
	page  int
	token string // set when the viewer may resend
	owner string // the owner's email, for staff
	flash string // HTML of a notice
}

// runTime formats a run's time in the mailing's zone.
func runTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

func reportHTML(rep stats.Report, v reportView) template.HTML {
	m := rep.Mailing
	var b strings.Builder
	b.WriteString(v.flash)
	tz := m.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	b.WriteString(`<div class="box box-default"><div class="box-body"><dl class="dl-horizontal" style="margin-bottom:0">`)
	dd := func(k, val string) {
		fmt.Fprintf(&b, `<dt>%s</dt><dd>%s</dd>`, html.EscapeString(k), html.EscapeString(val))
	}
	dd("Mailing", fmt.Sprintf("#%d %s", m.ID, m.DisplayName()))
	if v.owner != "" {
		dd("Owner", v.owner)
	}
	status := string(m.Status(v.now))
	if !m.Enabled {
		status += ", disabled"
	}
	dd("Status", status)
	dd("Period", fmt.Sprintf("%s, %s to %s", m.Period, m.Start.In(v.loc).Format("2006-01-02 15:04"), m.End.In(v.loc).Format("2006-01-02 15:04")))
	dd("Time zone", tz)
	dd("Clients", strconv.Itoa(len(m.ClientIDs)))
	id := strconv.FormatInt(m.ID, 10)
	fmt.Fprintf(&b, `</dl><p style="margin:.8em 0 0"><a href="%[1]s/info/mailings">All mailings</a> · <a href="%[1]s/info/deliveries?mailing_id=%[2]s">Deliveries</a> · <a href="%[1]s/info/attempts?mailing_id=%[2]s">Attempts</a></p></div></div>`,
		Prefix, id)

	// Runs: a chart (oldest first) and the table (newest first).
	b.WriteString(`<div class="box box-primary" id="runs"><div class="box-header with-border"><h3 class="box-title">Sends per run</h3></div><div class="box-body">`)
	if len(rep.Runs) == 0 {
		b.WriteString(`<p>No run has been sent yet.</p></div></div>`)
	} else {
		bars := make([]chartBar, len(rep.Runs))
		for i, r := range rep.Runs {
			bars[i] = chartBar{
				label:  r.RunAt.In(v.loc).Format("Jan 2"),
				title:  fmt.Sprintf("Run of %s: %d sent, %d failed, %d unknown, %d pending", runTime(r.RunAt, v.loc), r.Sent, r.Failed, r.Unknown, r.Pending),
				values: []int{r.Sent, r.Failed, r.Unknown, r.Pending},
			}
		}
		b.WriteString(string(barChart("runs-chart", fmt.Sprintf("Deliveries of each of the %d runs of %s, by state", len(rep.Runs), m.DisplayName()),
			"runs-table", []series{seriesSent, seriesFailed, seriesUnknown, seriesPending}, bars)))
		b.WriteString(`<div class="table-responsive"><table class="table table-striped table-condensed" id="runs-table"><caption>Deliveries per run, newest first (times in ` + html.EscapeString(tz) + `)</caption>`)
		b.WriteString(`<thead><tr><th scope="col">Run</th><th scope="col" class="text-right">Sent</th><th scope="col" class="text-right">Failed</th><th scope="col" class="text-right">Unknown</th><th scope="col" class="text-right">Pending</th><th scope="col" class="text-right">Total</th>`)
		if v.token != "" {
			b.WriteString(`<th scope="col"><span class="sr-only">Actions</span></th>`)
		}
		b.WriteString(`</tr></thead><tbody>`)
		for i := len(rep.Runs) - 1; i >= 0; i-- {
			r := rep.Runs[i]
			fmt.Fprintf(&b, `<tr class="run"><th scope="row">%s</th><td class="text-right">%d</td><td class="text-right">%d</td><td class="text-right">%d</td><td class="text-right">%d</td><td class="text-right">%d</td>`,
				html.EscapeString(runTime(r.RunAt, v.loc)), r.Sent, r.Failed, r.Unknown, r.Pending, r.Total())
			if v.token != "" {
				b.WriteString(`<td>`)
				if r.Failed > 0 {
					fmt.Fprintf(&b, `<form method="post" action="%s/resend" style="margin:0" class="resend">%s<input type="hidden" name="run_at" value="%s"><button type="submit" class="btn btn-xs btn-warning">Resend to failed (%d)</button></form>`,
						reportPath(m.ID), tokenField(v.token), html.EscapeString(r.RunAt.UTC().Format(time.RFC3339Nano)), r.Failed)
				}
				b.WriteString(`</td>`)
			}
			b.WriteString(`</tr>`)
		}
		b.WriteString(`</tbody></table></div></div></div>`)
	}

	// Clients, paged.
	pages := max(1, (rep.ClientsTotal+reportPageSize-1)/reportPageSize)
	fmt.Fprintf(&b, `<div class="box box-default" id="clients"><div class="box-header with-border"><h3 class="box-title">Clients</h3> <span class="text-muted">%d in all · page %d of %d</span></div><div class="box-body">`,
		rep.ClientsTotal, v.page, pages)
	if len(rep.Clients) == 0 {
		if rep.ClientsTotal == 0 {
			b.WriteString(`<p>No client has a delivery yet.</p>`)
		} else {
			b.WriteString(`<p>No clients on this page.</p>`)
		}
	} else {
		b.WriteString(`<div class="table-responsive"><table class="table table-striped table-condensed" id="clients-table"><caption>Each client's state in their latest run and their last attempt (times in ` + html.EscapeString(tz) + `)</caption>`)
		b.WriteString(`<thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">State</th><th scope="col">Last attempt</th><th scope="col">Outcome</th><th scope="col">Code</th><th scope="col">Server's answer</th></tr></thead><tbody>`)
		for _, cs := range rep.Clients {
			last, code := "", ""
			if !cs.LastAt.IsZero() {
				last = cs.LastAt.In(v.loc).Format("2006-01-02 15:04:05")
			}
			if cs.Code != 0 {
				code = strconv.Itoa(cs.Code)
			}
			fmt.Fprintf(&b, `<tr class="client"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td style="word-break:break-word">%s</td></tr>`,
				html.EscapeString(cs.Email), html.EscapeString(cs.Name), html.EscapeString(string(cs.State)), html.EscapeString(last),
				html.EscapeString(string(cs.Outcome)), code, html.EscapeString(cs.Response))
		}
		b.WriteString(`</tbody></table></div>`)
	}
	if pages > 1 {
		b.WriteString(`<nav aria-label="Client pages"><ul class="pager">`)
		if v.page > 1 {
			fmt.Fprintf(&b, `<li class="previous"><a href="%s?page=%d#clients" rel="prev">Previous</a></li>`, reportPath(m.ID), v.page-1)
		}
		if v.page < pages {
			fmt.Fprintf(&b, `<li class="next"><a href="%s?page=%d#clients" rel="next">Next</a></li>`, reportPath(m.ID), v.page+1)
		}
		b.WriteString(`</ul></nav>`)
	}
	b.WriteString(`</div></div>`)
	return template.HTML(b.String())
}

// resend queues a run's failed deliveries again, and goes back to the
// report with a notice.
func (h *Host) resend(c *gin.Context) {
	st := stateFrom(c.Request.Context())
	if st == nil {
		h.anonymous(c)
		return
	}
	runAt, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(c.Request.PostForm.Get("run_at")))
	if err != nil {
		st.refuse(http.StatusBadRequest, "Choose a run to resend to.")
		return
	}
	n, err := h.deps.Mailings.ResendFailed(c.Request.Context(), st.route.id, runAt)
	if err != nil {
		h.pageFailed(st, err)
		return
	}
	if n > 0 {
		h.kick() // the service's change hook wakes the scheduler too
		h.log.InfoContext(c.Request.Context(), "adminhost: failed deliveries queued again",
			"mailing", st.route.id, "run", runAt, "clients", n, "by", st.user.ID)
	}
	h.setFlash(c, flashResent, n)
	c.Redirect(http.StatusSeeOther, reportPath(st.route.id)+"#runs")
}
