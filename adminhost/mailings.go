package adminhost

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the time zone select must work on hosts without zoneinfo

	gctx "github.com/GoAdminGroup/go-admin/context"
	"github.com/GoAdminGroup/go-admin/modules/db"
	gform "github.com/GoAdminGroup/go-admin/plugins/admin/modules/form"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/parameter"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/table"
	"github.com/GoAdminGroup/go-admin/template/types"
	"github.com/GoAdminGroup/go-admin/template/types/form"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
)

// TimeZones are the zones the mailing form offers (with UTC first); a
// mailing saved with another zone keeps it.
var TimeZones = []string{
	"UTC",
	"Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Madrid",
	"Europe/Rome", "Europe/Amsterdam", "Europe/Stockholm", "Europe/Warsaw", "Europe/Athens", "Europe/Helsinki",
	"Europe/Kyiv", "Europe/Istanbul", "Europe/Moscow",
	"Africa/Cairo", "Africa/Lagos", "Africa/Johannesburg", "Africa/Nairobi",
	"Asia/Dubai", "Asia/Tehran", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Jakarta",
	"Asia/Singapore", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Seoul", "Asia/Tokyo",
	"Asia/Almaty", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Vladivostok",
	"Australia/Perth", "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Pacific/Auckland",
	"America/St_Johns", "America/Halifax", "America/New_York", "America/Chicago", "America/Denver",
	"America/Phoenix", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
	"America/Mexico_City", "America/Bogota", "America/Lima", "America/Santiago", "America/Buenos_Aires",
	"America/Sao_Paulo",
}

// formTime is how the form's date and time pickers write a time.
const formTime = "2006-01-02 15:04:05"

// parseFormTime reads a wall time in loc as the date and time pickers
// write it (formTime), or as people type it: without seconds, with a "T",
// or a date alone (midnight). At daylight saving changes it follows the
// schedule's rule (mailing.AtWallTime): a wall time that happens twice is
// its first instant, one that a gap skips moves forward by the gap.
// (time.ParseInLocation picks either, by hemisphere.)
func parseFormTime(s string, loc *time.Location) (time.Time, bool) {
	for _, layout := range []string{formTime, "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return mailing.AtWallTime(t, loc).In(loc), true
		}
	}
	return time.Time{}, false
}

var mailingFields = []string{"name", "message_id", "client_ids", "start", "end", "period", "time_zone"}

func (h *Host) mailingsTable() *tableSpec {
	t := &tableSpec{
		prefix: "mailings",
		exists: opsWrite,
		roles: map[accounts.Role]op{
			accounts.RoleUser: opsWrite, accounts.RoleSuperuser: opsWrite, accounts.RoleManager: opsRead,
		},
		lookup: func(ctx context.Context, id int64) error {
			_, err := h.deps.Mailings.GetMailing(ctx, id)
			return err
		},
	}
	t.build = func(ctx *gctx.Context, st *reqState) table.Table { return h.buildMailings(ctx, t, st) }
	return t
}

func (h *Host) kick() {
	if h.deps.Kick != nil {
		h.deps.Kick()
	}
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

func splitIDs(vs []string) ([]int64, bool) {
	var ids []int64
	for _, v := range vs {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil || id <= 0 {
				return nil, false
			}
			ids = append(ids, id)
		}
	}
	return ids, true
}

func (h *Host) buildMailings(ctx *gctx.Context, spec *tableSpec, st *reqState) table.Table {
	svc, uctx := h.deps.Mailings, ctx.Request.Context()
	now := h.clock.Now()
	t := h.newTable(ctx, spec, st, func(p parameter.Parameters) ([]map[string]interface{}, int) {
		f := mailing.MailingFilter{OwnerID: ownerFilter(p, st), MessageID: int64Field(p.GetFieldValue("message_id"))}
		if ids, ok := pkFilter(p); ok {
			f.IDs = ids
		} else {
			f.ListOptions = listOptions(p)
		}
		ms, n, err := svc.ListMailings(uctx, f)
		if err != nil {
			st.fail(err)
			return nil, 0
		}
		subjects := h.subjects(uctx, st, ms)
		owners := h.ownerEmails(uctx, st, ms)
		rows := make([]map[string]interface{}, len(ms))
		for i, m := range ms {
			loc, err := mailing.LoadLocation(m.TimeZone)
			if err != nil {
				loc = time.UTC
			}
			tz := m.TimeZone
			if tz == "" {
				tz = "UTC"
			}
			status := string(m.Status(now))
			if !m.Enabled {
				status += ", disabled"
			}
			enabled := "yes"
			if !m.Enabled {
				enabled = "no"
			}
			rows[i] = map[string]interface{}{
				"id": m.ID, "owner_id": m.OwnerID, "owner": owners[m.OwnerID], "name": m.Name, "title": m.DisplayName(),
				"message_id": strconv.FormatInt(m.MessageID, 10), "message": subjects[m.MessageID],
				"client_ids": joinIDs(m.ClientIDs), "clients": int64(len(m.ClientIDs)),
				"start": m.Start.In(loc).Format(formTime), "end": m.End.In(loc).Format(formTime),
				"period": string(m.Period), "time_zone": tz, "status": status, "enabled": enabled,
				"next_run": formatTime(m.NextRun, loc), "report": m.ID,
			}
			if st.route.op == opEdit {
				rows[i] = refill(st, rows[i], mailingFields...)
			}
		}
		return rows, n
	})

	// The list shows what tells mailings apart and what happens next; the
	// detail page shows every field (a list wider than the screen hides
	// its last columns under GoAdmin's operation column).
	info, detail := t.GetInfo(), t.GetDetail()
	both := func(head, field string, typ db.DatabaseType) {
		info.AddField(head, field, typ)
		detail.AddField(head, field, typ)
	}
	both("ID", "id", db.Int)
	info.FieldWidth(50)
	if st.user.IsStaff() {
		both("Owner", "owner", db.Varchar)
		info.AddField("Owner ID", "owner_id", db.Int).FieldFilterable().FieldHide()
	}
	both("Name", "title", db.Varchar)
	info.AddField("Message ID", "message_id", db.Varchar).FieldFilterable().FieldHide()
	both("Message", "message", db.Varchar)
	both("Clients", "clients", db.Int)
	info.FieldWidth(70)
	detail.AddField("Start", "start", db.Varchar)
	detail.AddField("End", "end", db.Varchar)
	both("Period", "period", db.Varchar)
	info.FieldWidth(80)
	both("Time zone", "time_zone", db.Varchar)
	both("Status", "status", db.Varchar)
	detail.AddField("Enabled", "enabled", db.Varchar)
	both("Next run", "next_run", db.Varchar)
	info.FieldWidth(150)
	if h.deps.Stats != nil {
		report := func(v types.FieldModel) interface{} {
			id := int64Field(v.Value)
			if id <= 0 {
				return template.HTML("")
			}
			return template.HTML(fmt.Sprintf(`<a href="%s" class="report-link">Report</a>`, reportPath(id)))
		}
		info.AddField("Report", "report", db.Int).FieldDisplay(report)
		detail.AddField("Report", "report", db.Int).FieldDisplay(report)
	}
	title, desc := "Mailings", "Your scheduled mailings"
	if st.user.Role == accounts.RoleManager {
		title, desc = "All mailings", "Every user's mailings"
	}
	info.SetTable("mailings").SetTitle(title).SetDescription(desc)
	info.SetDeleteFn(func(ids []string) error {
		list, err := parseIDs(ids)
		if err != nil {
			return h.deleteError(st, err)
		}
		for _, id := range list {
			if err := svc.DeleteMailing(uctx, id); err != nil {
				return h.deleteError(st, err)
			}
		}
		return nil
	})
	h.addRowActions(ctx, info, st.user.Role, "mailing-")

	fp := t.GetForm()
	fp.AddField("Name", "name", db.Varchar, form.Text).FieldHelpMsg("Optional; shown in lists.")
	fp.AddField("Message", "message_id", db.Varchar, form.SelectSingle).FieldMust().
		FieldOptionInitFn(func(v types.FieldModel) types.FieldOptions { return h.messageOptions(uctx, st, v) })
	fp.AddField("Clients", "client_ids", db.Varchar, form.Select).FieldMust().
		FieldOptionInitFn(func(v types.FieldModel) types.FieldOptions { return h.clientOptions(uctx, st, v) })
	start := now.UTC().Truncate(time.Hour).Add(time.Hour)
	fp.AddField("Start", "start", db.Varchar, form.Datetime).FieldMust().FieldDefault(start.Format(formTime)).
		FieldHelpMsg("In the mailing's time zone. It repeats at this time of day.")
	fp.AddField("End", "end", db.Varchar, form.Datetime).FieldMust().FieldDefault(start.AddDate(0, 1, 0).Format(formTime)).
		FieldHelpMsg("In the mailing's time zone. Nothing is sent after it.")
	fp.AddField("Period", "period", db.Varchar, form.SelectSingle).FieldMust().FieldDefault(string(mailing.Daily)).
		FieldOptions(types.FieldOptions{
			{Text: "Every day", Value: string(mailing.Daily)},
			{Text: "Every week", Value: string(mailing.Weekly)},
			{Text: "Every month", Value: string(mailing.Monthly)},
		})
	fp.AddField("Time zone", "time_zone", db.Varchar, form.SelectSingle).FieldMust().FieldDefault("UTC").
		FieldOptionInitFn(func(v types.FieldModel) types.FieldOptions { return zoneOptions(v.Value) })
	fp.SetTable("mailings").SetTitle("Mailing").
		SetDescription("Sends one message to a set of your clients, every period, from the start to the end")
	fp.SetInsertFn(func(v gform.Values) error {
		m, err := mailingFromForm(v)
		if err == nil {
			_, err = svc.CreateMailing(uctx, m)
		}
		if err == nil {
			h.kick()
		}
		return h.formError(st, v, err)
	})
	fp.SetUpdateFn(func(v gform.Values) error {
		m, err := mailingFromForm(v)
		if err == nil {
			_, err = svc.UpdateMailing(uctx, m)
		}
		if err == nil {
			h.kick()
		}
		return h.formError(st, v, err)
	})
	prefill(st, fp)
	return t
}

// mailingFromForm reads a mailing from the form: times are wall times in
// the chosen zone.
func mailingFromForm(v gform.Values) (mailing.Mailing, error) {
	var bad []mailing.FieldError
	tz := strings.TrimSpace(v.Get("time_zone"))
	loc, err := mailing.LoadLocation(tz)
	if err != nil {
		bad = append(bad, mailing.FieldError{Field: "time_zone", Message: fmt.Sprintf("%q is not a known time zone", tz)})
		loc = time.UTC
	}
	when := func(field string) time.Time {
		s := strings.TrimSpace(v.Get(field))
		if s == "" {
			return time.Time{}
		}
		if t, ok := parseFormTime(s, loc); ok {
			return t
		}
		bad = append(bad, mailing.FieldError{Field: field, Message: fmt.Sprintf("%q is not a date and time like 2025-01-31 09:00", s)})
		return time.Time{}
	}
	m := mailing.Mailing{
		ID:        int64Field(v.Get("id")),
		Name:      v.Get("name"),
		MessageID: int64Field(v.Get("message_id")),
		Start:     when("start"),
		End:       when("end"),
		Period:    mailing.Period(strings.TrimSpace(v.Get("period"))),
		TimeZone:  tz,
	}
	ids, ok := splitIDs(formValues(v, "client_ids"))
	if !ok {
		bad = append(bad, mailing.FieldError{Field: "client_ids", Message: "must list clients by id"})
	}
	m.ClientIDs = ids
	if len(bad) > 0 {
		return m, &mailing.ValidationError{Fields: bad}
	}
	return m, nil
}

// ownerOf is the owner of the mailing a form shows: the row's, or the
// acting user's for a new one.
func ownerOf(v types.FieldModel, st *reqState) int64 {
	if id, ok := v.Row["owner_id"].(int64); ok && id > 0 {
		return id
	}
	return st.user.ID
}

// optionLimit bounds the choices a select offers.
const optionLimit = 2000

// messageOptions lists the owner's messages, as the acting user sees them
// (the service scopes a user to their own; a refused message is refused
// again on save).
func (h *Host) messageOptions(ctx context.Context, st *reqState, v types.FieldModel) types.FieldOptions {
	ms, _, err := h.deps.Mailings.ListMessages(ctx, mailing.MessageFilter{OwnerID: ownerOf(v, st),
		ListOptions: mailing.ListOptions{Limit: optionLimit}})
	if err != nil {
		st.fail(err)
		return nil
	}
	sel := strings.TrimSpace(v.Value)
	opts := make(types.FieldOptions, 0, len(ms))
	for _, m := range ms {
		id := strconv.FormatInt(m.ID, 10)
		opts = append(opts, types.FieldOption{Text: fmt.Sprintf("#%d %s", m.ID, excerpt(m.Subject, 80)), Value: id, Selected: id == sel})
	}
	return opts
}

// clientOptions lists the owner's clients, selected as in v.Value.
func (h *Host) clientOptions(ctx context.Context, st *reqState, v types.FieldModel) types.FieldOptions {
	cs, _, err := h.deps.Mailings.ListClients(ctx, mailing.ClientFilter{OwnerID: ownerOf(v, st),
		ListOptions: mailing.ListOptions{Limit: optionLimit}})
	if err != nil {
		st.fail(err)
		return nil
	}
	sel, _ := splitIDs([]string{v.Value})
	opts := make(types.FieldOptions, 0, len(cs))
	for _, c := range cs {
		text := c.Email
		if c.Name != "" {
			text = c.Name + " <" + c.Email + ">"
		}
		opts = append(opts, types.FieldOption{Text: text, Value: strconv.FormatInt(c.ID, 10), Selected: slices.Contains(sel, c.ID)})
	}
	return opts
}

// zoneOptions lists TimeZones, and cur when it is another zone.
func zoneOptions(cur string) types.FieldOptions {
	cur = strings.TrimSpace(cur)
	if cur == "" {
		cur = "UTC"
	}
	zones := TimeZones
	if !slices.Contains(zones, cur) {
		if _, err := mailing.LoadLocation(cur); err == nil {
			zones = append([]string{cur}, zones...)
		}
	}
	opts := make(types.FieldOptions, len(zones))
	for i, z := range zones {
		opts[i] = types.FieldOption{Text: strings.ReplaceAll(z, "_", " "), Value: z, Selected: z == cur}
	}
	return opts
}

// subjects returns the subjects of the mailings' messages.
func (h *Host) subjects(ctx context.Context, st *reqState, ms []mailing.Mailing) map[int64]string {
	out := make(map[int64]string)
	var ids []int64
	for _, m := range ms {
		if !slices.Contains(ids, m.MessageID) {
			ids = append(ids, m.MessageID)
		}
	}
	if len(ids) == 0 {
		return out
	}
	msgs, _, err := h.deps.Mailings.ListMessages(ctx, mailing.MessageFilter{IDs: ids})
	if err != nil {
		st.fail(err)
		return out
	}
	for _, m := range msgs {
		out[m.ID] = m.Subject
	}
	return out
}

// ownerEmails returns the owners' addresses, for staff.
func (h *Host) ownerEmails(ctx context.Context, st *reqState, ms []mailing.Mailing) map[int64]string {
	out := make(map[int64]string)
	if !st.user.IsStaff() {
		return out
	}
	for _, m := range ms {
		if _, ok := out[m.OwnerID]; ok {
			continue
		}
		u, err := h.deps.Accounts.GetUser(ctx, m.OwnerID)
		if err != nil {
			out[m.OwnerID] = fmt.Sprintf("#%d", m.OwnerID)
			continue
		}
		out[m.OwnerID] = u.Email
	}
	return out
}

// escapeHTML is html.EscapeString as template.HTML, for displays that
// return HTML (GoAdmin does not escape those).
func escapeHTML(s string) template.HTML { return template.HTML(html.EscapeString(s)) }
