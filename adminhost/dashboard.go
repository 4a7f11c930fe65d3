package adminhost

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"strings"

	"github.com/GoAdminGroup/go-admin/template/types"
	"github.com/gin-gonic/gin"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
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

// dashboard shows the acting user's figures.
func (h *Host) dashboard(c *gin.Context) {
	st := stateFrom(c.Request.Context())
	if st == nil {
		h.anonymous(c)
		return
	}
	h.eng.Content(c, func(_ interface{}) (types.Panel, error) {
		figs, err := h.figures(c.Request.Context(), st.user)
		if err != nil {
			st.fail(err)
			return types.Panel{}, err
		}
		return types.Panel{
			Title:       "Dashboard",
			Description: template.HTML(html.EscapeString(st.user.Role.Label() + " · " + st.user.Email)),
			Content:     dashboardHTML(st.user, figs),
		}, nil
	})
}

func dashboardHTML(u accounts.User, figs []figure) template.HTML {
	var b strings.Builder
	name := u.FullName
	if name == "" {
		name = u.Email
	}
	fmt.Fprintf(&b, `<div class="row"><div class="col-md-12"><p class="lead">Welcome, %s.</p></div></div>`, html.EscapeString(name))
	if u.Role == accounts.RoleContentManager {
		b.WriteString(`<div class="row"><div class="col-md-12"><p>You write the blog. Its pages appear in the menu once the blog is installed.</p></div></div>`)
		return template.HTML(b.String())
	}
	b.WriteString(`<div class="row">`)
	for _, f := range figs {
		fmt.Fprintf(&b, `<div class="col-lg-2 col-md-4 col-xs-6"><div class="small-box %s"><div class="inner"><h3>%d</h3><p>%s</p></div>`+
			`<div class="icon"><i class="fa %s"></i></div><a href="%s" class="small-box-footer">Open <i class="fa fa-arrow-circle-right"></i></a></div></div>`,
			f.color, f.n, html.EscapeString(f.label), f.icon, html.EscapeString(Prefix+f.link))
	}
	b.WriteString(`</div>`)
	return template.HTML(b.String())
}
