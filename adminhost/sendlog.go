package adminhost

import (
	"context"
	"slices"
	"strconv"
	"time"

	gctx "github.com/GoAdminGroup/go-admin/context"
	"github.com/GoAdminGroup/go-admin/modules/db"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/parameter"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/table"
	"github.com/GoAdminGroup/go-admin/template/types"
	"github.com/GoAdminGroup/go-admin/template/types/form"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
)

// The send log is read-only: lists and exports. The services have no
// look-up of one delivery or attempt by id, so these tables have no
// per-object pages and the guard refuses their primary-key routes.

var sendLogRoles = map[accounts.Role]op{
	accounts.RoleUser:      opList | opExport,
	accounts.RoleManager:   opList | opExport,
	accounts.RoleSuperuser: opList | opExport,
}

func (h *Host) deliveriesTable() *tableSpec {
	t := &tableSpec{prefix: "deliveries", exists: opList | opExport, roles: sendLogRoles}
	t.build = func(ctx *gctx.Context, st *reqState) table.Table { return h.buildDeliveries(ctx, t, st) }
	return t
}

func (h *Host) attemptsTable() *tableSpec {
	t := &tableSpec{prefix: "attempts", exists: opList | opExport, roles: sendLogRoles}
	t.build = func(ctx *gctx.Context, st *reqState) table.Table { return h.buildAttempts(ctx, t, st) }
	return t
}

// mailingNames returns the names of the mailings with ids, as the acting
// user may see them.
func (h *Host) mailingNames(ctx context.Context, st *reqState, ids []int64) map[int64]string {
	out := make(map[int64]string)
	if len(ids) == 0 {
		return out
	}
	ms, _, err := h.deps.Mailings.ListMailings(ctx, mailing.MailingFilter{IDs: ids})
	if err != nil {
		st.fail(err)
		return out
	}
	for _, m := range ms {
		out[m.ID] = m.DisplayName()
	}
	return out
}

func appendNew(ids []int64, id int64) []int64 {
	if id == 0 || slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}

var stateOptions = types.FieldOptions{
	{Text: "pending", Value: string(mailing.DeliveryPending)},
	{Text: "sending", Value: string(mailing.DeliverySending)},
	{Text: "sent", Value: string(mailing.DeliverySent)},
	{Text: "failed", Value: string(mailing.DeliveryFailed)},
	{Text: "unknown", Value: string(mailing.DeliveryUnknown)},
}

func (h *Host) buildDeliveries(ctx *gctx.Context, spec *tableSpec, st *reqState) table.Table {
	svc, uctx := h.deps.Mailings, ctx.Request.Context()
	t := h.newTable(ctx, spec, st, func(p parameter.Parameters) ([]map[string]interface{}, int) {
		f := mailing.DeliveryFilter{
			OwnerID:     ownerFilter(p, st),
			MailingID:   int64Field(p.GetFieldValue("mailing_id")),
			ClientID:    int64Field(p.GetFieldValue("client_id")),
			ListOptions: listOptions(p),
		}
		if s := p.GetFieldValue("state"); s != "" {
			f.States = []mailing.DeliveryState{mailing.DeliveryState(s)}
		}
		ds, n, err := svc.ListDeliveries(uctx, f)
		if err != nil {
			st.fail(err)
			return nil, 0
		}
		var mids []int64
		for _, d := range ds {
			mids = appendNew(mids, d.MailingID)
		}
		names := h.mailingNames(uctx, st, mids)
		rows := make([]map[string]interface{}, len(ds))
		for i, d := range ds {
			rows[i] = map[string]interface{}{
				"id": d.ID, "mailing_id": d.MailingID, "mailing": names[d.MailingID], "run_at": formatTime(d.RunAt, nil),
				"client_id": d.ClientID, "email": d.Email, "name": d.Name, "state": string(d.State),
				"attempts": int64(d.Attempts), "last_error": d.LastError, "updated_at": formatTime(d.UpdatedAt, nil),
			}
		}
		return rows, n
	})
	info := t.GetInfo()
	info.AddField("ID", "id", db.Int)
	info.AddField("Mailing", "mailing", db.Varchar)
	info.AddField("Mailing ID", "mailing_id", db.Int).FieldFilterable().FieldHide()
	info.AddField("Run (UTC)", "run_at", db.Varchar).FieldDisplay(cellNowrap)
	info.AddField("Client ID", "client_id", db.Int).FieldFilterable().FieldHide()
	info.AddField("Email", "email", db.Varchar)
	info.AddField("Name", "name", db.Varchar)
	info.AddField("State", "state", db.Varchar).
		FieldFilterable(types.FilterType{FormType: form.SelectSingle}).FieldFilterOptions(stateOptions)
	info.AddField("Attempts", "attempts", db.Int)
	info.AddField("Last answer", "last_error", db.Varchar).FieldDisplay(cellBreak)
	info.AddField("Updated (UTC)", "updated_at", db.Varchar).FieldDisplay(cellNowrap)
	noRowSelection(info)
	info.SetTable("deliveries").SetTitle("Deliveries").SetDescription("Each client's copy of each run of a mailing")
	return t
}

func (h *Host) buildAttempts(ctx *gctx.Context, spec *tableSpec, st *reqState) table.Table {
	svc, uctx := h.deps.Mailings, ctx.Request.Context()
	t := h.newTable(ctx, spec, st, func(p parameter.Parameters) ([]map[string]interface{}, int) {
		f := mailing.AttemptFilter{
			OwnerID:     ownerFilter(p, st),
			MailingID:   int64Field(p.GetFieldValue("mailing_id")),
			DeliveryID:  int64Field(p.GetFieldValue("delivery_id")),
			ClientID:    int64Field(p.GetFieldValue("client_id")),
			ListOptions: listOptions(p),
		}
		as, n, err := svc.ListAttempts(uctx, f)
		if err != nil {
			st.fail(err)
			return nil, 0
		}
		var mids, cids []int64
		for _, a := range as {
			mids = appendNew(mids, a.MailingID)
			cids = appendNew(cids, a.ClientID)
		}
		names := h.mailingNames(uctx, st, mids)
		emails := make(map[int64]string)
		if len(cids) > 0 {
			cs, _, err := svc.ListClients(uctx, mailing.ClientFilter{IDs: cids})
			if err != nil {
				st.fail(err)
				return nil, 0
			}
			for _, c := range cs {
				emails[c.ID] = c.Email
			}
		}
		rows := make([]map[string]interface{}, len(as))
		for i, a := range as {
			client := emails[a.ClientID]
			if client == "" {
				client = "#" + strconv.FormatInt(a.ClientID, 10) + " (deleted)"
			}
			code := ""
			if a.Code != 0 {
				code = strconv.Itoa(a.Code)
			}
			rows[i] = map[string]interface{}{
				"id": a.ID, "delivery_id": a.DeliveryID, "mailing_id": a.MailingID, "mailing": names[a.MailingID],
				"run_at": formatTime(a.RunAt, nil), "client_id": a.ClientID, "client": client,
				"at": a.At.UTC().Format("2006-01-02 15:04:05"), "outcome": string(a.Outcome), "code": code,
				"response": a.Response, "duration": a.Duration.Round(time.Millisecond).String(),
			}
		}
		return rows, n
	})
	info := t.GetInfo()
	info.AddField("ID", "id", db.Int)
	info.AddField("Mailing", "mailing", db.Varchar)
	info.AddField("Mailing ID", "mailing_id", db.Int).FieldFilterable().FieldHide()
	info.AddField("Delivery ID", "delivery_id", db.Int).FieldFilterable()
	info.AddField("Run (UTC)", "run_at", db.Varchar).FieldDisplay(cellNowrap)
	info.AddField("Client", "client", db.Varchar)
	info.AddField("Client ID", "client_id", db.Int).FieldFilterable().FieldHide()
	info.AddField("At (UTC)", "at", db.Varchar).FieldDisplay(cellNowrap)
	info.AddField("Outcome", "outcome", db.Varchar)
	info.AddField("Code", "code", db.Varchar)
	info.AddField("Server's answer", "response", db.Varchar).FieldDisplay(cellBreak)
	info.AddField("Took", "duration", db.Varchar)
	noRowSelection(info)
	info.SetTable("attempts").SetTitle("Attempts").SetDescription("Every try to deliver a mailing to a client")
	return t
}
