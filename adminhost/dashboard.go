package adminhost

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/stats"
)

// figure is one number on the dashboard.
type figure struct {
	label, icon, color, link string
	n                        int
}

// figures counts what the acting user may see: their own objects, or
// everyone's for staff. Content managers have no mailing data.
func (h *Host) figures(ctx context.Context, u accounts.User) ([]figure, error) {
	if u.Role == accounts.RoleContentManager {
		return nil, nil
	}
	svc := h.deps.Mailings
	one := mailing.ListOptions{Limit: 1}
	var out []figure
	add := func(label, icon, color, link string, n int, err error) error {
		if err != nil {
			return err
		}
		out = append(out, figure{label: label, icon: icon, color: color, link: link, n: n})
		return nil
	}
	_, n, err := svc.ListClients(ctx, mailing.ClientFilter{ListOptions: one})
	if err := add("Clients", "fa-address-book", "bg-aqua", "/info/clients", n, err); err != nil {
		return nil, err
	}
	_, n, err = svc.ListMessages(ctx, mailing.MessageFilter{ListOptions: one})
	if err := add("Messages", "fa-envelope", "bg-teal", "/info/messages", n, err); err != nil {
		return nil, err
	}
	_, n, err = svc.ListMailings(ctx, mailing.MailingFilter{ListOptions: one})
	if err := add("Mailings", "fa-paper-plane", "bg-purple", "/info/mailings", n, err); err != nil {
		return nil, err
	}
	_, n, err = svc.ListDeliveries(ctx, mailing.DeliveryFilter{States: []mailing.DeliveryState{mailing.DeliverySent}, ListOptions: one})
	if err := add("Sent", "fa-check", "bg-green", "/info/deliveries?state=sent", n, err); err != nil {
		return nil, err
	}
	_, n, err = svc.ListDeliveries(ctx, mailing.DeliveryFilter{States: []mailing.DeliveryState{mailing.DeliveryFailed, mailing.DeliveryUnknown}, ListOptions: one})
	if err := add("Failed or unknown", "fa-exclamation-triangle", "bg-red", "/info/deliveries?state=failed", n, err); err != nil {
		return nil, err
	}
	if u.IsStaff() {
		_, n, err := h.deps.Accounts.ListUsers(ctx, accounts.UserFilter{ListOptions: accounts.ListOptions{Limit: 1}})
		if err := add("Users", "fa-users", "bg-yellow", "/info/users", n, err); err != nil {
			return nil, err
		}
	}
	if u.Role == accounts.RoleManager {
		// Managers have no client or message pages.
		out = out[2:]
	}
	return out, nil
}

// statsFigures are the acting user's figures from the stats service:
// their own, or the whole service's for staff.
func (h *Host) statsFigures(ctx context.Context, u accounts.User) ([]figure, stats.Dashboard, error) {
	d, err := h.deps.Stats.Dashboard(ctx, stats.DefaultDays, time.UTC)
	if err != nil {
		return nil, stats.Dashboard{}, err
	}
	f := d.Figures
	var out []figure
	if u.Role != accounts.RoleManager { // managers have no client pages
		out = append(out, figure{"Clients", "fa-address-book", "bg-aqua", "/info/clients", f.Clients})
	}
	out = append(out,
		figure{"Mailings", "fa-paper-plane", "bg-purple", "/info/mailings", f.Mailings},
		figure{"Running now", "fa-play-circle", "bg-blue", "/info/mailings", f.Active},
		figure{"Sent", "fa-check", "bg-green", "/info/deliveries?state=sent", f.Sent},
		figure{"Failed", "fa-times-circle", "bg-red", "/info/deliveries?state=failed", f.Failed},
		figure{"Unknown", "fa-question-circle", "bg-orange", "/info/deliveries?state=unknown", f.Unknown},
		figure{"Pending", "fa-hourglass-half", "bg-navy", "/info/deliveries?state=pending", f.Pending},
	)
	if u.IsStaff() {
		_, n, err := h.deps.Accounts.ListUsers(ctx, accounts.UserFilter{ListOptions: accounts.ListOptions{Limit: 1}})
		if err != nil {
			return nil, stats.Dashboard{}, err
		}
		out = append(out, figure{"Users", "fa-users", "bg-yellow", "/info/users", n})
	}
	return out, d, nil
}

// maxViewPosts bounds the posts whose views the dashboard adds up.
const maxViewPosts = 10000

// blogFigures counts the blog's posts, published posts and views.
func (h *Host) blogFigures(ctx context.Context) ([]figure, error) {
	svc := h.deps.Blog
	_, published, err := svc.ListPublished(ctx, blog.ListOptions{Limit: 1})
	if err != nil {
		return nil, err
	}
	const page = 500
	var total int
	var views int64
	for off := 0; off < maxViewPosts; off += page {
		list, n, err := svc.ListPosts(ctx, blog.ListOptions{Limit: page, Offset: off})
		if err != nil {
			return nil, err
		}
		total = n
		for _, p := range list {
			views += p.Views
		}
		if len(list) < page {
			break
		}
	}
	return []figure{
		{"Posts", "fa-newspaper-o", "bg-teal", "/info/posts", total},
		{"Published", "fa-globe", "bg-green", "/info/posts", published},
		{"Views", "fa-eye", "bg-light-blue", "/info/posts", int(views)},
	}, nil
}

// dashboard shows the acting user's figures and, with the stats service,
// a chart of their sends per day.
func (h *Host) dashboard(c *gin.Context) {
	st := stateFrom(c.Request.Context())
	if st == nil {
		h.anonymous(c)
		return
	}
	content, err := h.dashboardContent(c.Request.Context(), st.user)
	if err != nil {
		st.fail(err)
		return
	}
	h.render(c, 0, "Dashboard", st.user.Role.Label()+" · "+st.user.Email, content)
}

func (h *Host) dashboardContent(ctx context.Context, u accounts.User) (template.HTML, error) {
	var b strings.Builder
	name := u.FullName
	if name == "" {
		name = u.Email
	}
	fmt.Fprintf(&b, `<div class="row"><div class="col-md-12"><p class="lead">Welcome, %s.</p></div></div>`, html.EscapeString(name))
	if u.Role != accounts.RoleContentManager {
		var figs []figure
		var d stats.Dashboard
		var err error
		if h.deps.Stats != nil {
			figs, d, err = h.statsFigures(ctx, u)
		} else {
			figs, err = h.figures(ctx, u)
		}
		if err != nil {
			return "", err
		}
		writeFigures(&b, figs)
		if !d.Figures.AsOf.IsZero() {
			fmt.Fprintf(&b, `<p class="text-muted small" id="figures-as-of">Deliveries and sends as of %s UTC.</p>`,
				d.Figures.AsOf.UTC().Format("2 Jan 2006 15:04:05"))
		}
		if h.deps.Stats != nil {
			days := d.Days
			title := "Your sends per day, last 30 days (UTC)"
			if u.IsStaff() {
				title = "Sends per day on the whole service, last 30 days (UTC)"
			}
			b.WriteString(`<div class="box box-primary"><div class="box-header with-border"><h3 class="box-title">` + html.EscapeString(title) + `</h3></div><div class="box-body">`)
			b.WriteString(string(sendsChart(title, days)))
			b.WriteString(`</div></div>`)
		}
	}
	if u.Role == accounts.RoleContentManager || u.Role == accounts.RoleSuperuser {
		if h.deps.Blog == nil {
			if u.Role == accounts.RoleContentManager {
				b.WriteString(`<div class="row"><div class="col-md-12"><p>You write the blog. Its pages appear in the menu once the blog is installed.</p></div></div>`)
			}
			return template.HTML(b.String()), nil
		}
		figs, err := h.blogFigures(ctx)
		if err != nil {
			return "", err
		}
		if u.Role == accounts.RoleContentManager {
			fmt.Fprintf(&b, `<div class="row"><div class="col-md-12"><p>You write the blog: <a href="%s/info/posts">open the posts</a> or <a href="%s/info/posts/new">write a new one</a>.</p></div></div>`, Prefix, Prefix)
		} else {
			b.WriteString(`<h4>Blog</h4>`)
		}
		writeFigures(&b, figs)
	}
	return template.HTML(b.String()), nil
}

func writeFigures(b *strings.Builder, figs []figure) {
	b.WriteString(`<div class="row">`)
	for _, f := range figs {
		fmt.Fprintf(b, `<div class="col-lg-2 col-md-4 col-xs-6"><div class="small-box %s"><div class="inner"><h3>%d</h3><p>%s</p></div>`+
			`<div class="icon"><i class="fa %s"></i></div><a href="%s" class="small-box-footer">Open <i class="fa fa-arrow-circle-right"></i></a></div></div>`,
			f.color, f.n, html.EscapeString(f.label), f.icon, html.EscapeString(Prefix+f.link))
	}
	b.WriteString(`</div>`)
}

// sendsChart draws attempts per day (sent and failed) with a table of the
// same numbers.
func sendsChart(title string, days []stats.SendCount) template.HTML {
	bars := make([]chartBar, len(days))
	var rows strings.Builder
	for i, d := range days {
		day := d.Start.Format("Mon 2 Jan 2006")
		bars[i] = chartBar{label: d.Start.Format("Jan 2"), title: fmt.Sprintf("%s: %d sent, %d failed", day, d.Sent, d.Failed),
			values: []int{d.Sent, d.Failed}}
		fmt.Fprintf(&rows, `<tr><th scope="row">%s</th><td class="text-right">%d</td><td class="text-right">%d</td></tr>`,
			html.EscapeString(day), d.Sent, d.Failed)
	}
	var b strings.Builder
	b.WriteString(string(barChart("sends-chart", title, "sends-table", []series{seriesSent, seriesFailed}, bars)))
	b.WriteString(`<details><summary>The numbers as a table</summary><div class="table-responsive"><table class="table table-condensed" id="sends-table">`)
	b.WriteString(`<thead><tr><th scope="col">Day</th><th scope="col" class="text-right">Sent</th><th scope="col" class="text-right">Failed</th></tr></thead><tbody>`)
	b.WriteString(rows.String())
	b.WriteString(`</tbody></table></div></details>`)
	return template.HTML(b.String())
}
