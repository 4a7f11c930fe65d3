package adminhost

import (
	"context"
	"unicode/utf8"

	gctx "github.com/GoAdminGroup/go-admin/context"
	"github.com/GoAdminGroup/go-admin/modules/db"
	gform "github.com/GoAdminGroup/go-admin/plugins/admin/modules/form"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/parameter"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/table"
	"github.com/GoAdminGroup/go-admin/template/types/form"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
)

func (h *Host) messagesTable() *tableSpec {
	t := &tableSpec{
		prefix: "messages",
		exists: opsWrite,
		roles:  map[accounts.Role]op{accounts.RoleUser: opsWrite, accounts.RoleSuperuser: opsWrite},
		lookup: func(ctx context.Context, id int64) error {
			_, err := h.deps.Mailings.GetMessage(ctx, id)
			return err
		},
	}
	t.build = func(ctx *gctx.Context, st *reqState) table.Table { return h.buildMessages(ctx, t, st) }
	return t
}

var messageFields = []string{"subject", "body"}

// excerpt shortens s to n runes for a list.
func excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func (h *Host) buildMessages(ctx *gctx.Context, spec *tableSpec, st *reqState) table.Table {
	svc, uctx := h.deps.Mailings, ctx.Request.Context()
	t := h.newTable(ctx, spec, st, func(p parameter.Parameters) ([]map[string]interface{}, int) {
		f := mailing.MessageFilter{OwnerID: ownerFilter(p, st)}
		ids, byID := pkFilter(p)
		if byID {
			f.IDs = ids
		} else {
			f.ListOptions = listOptions(p)
		}
		ms, n, err := svc.ListMessages(uctx, f)
		if err != nil {
			st.fail(err)
			return nil, 0
		}
		rows := make([]map[string]interface{}, len(ms))
		for i, m := range ms {
			body := m.Body
			if !byID {
				body = excerpt(body, 120)
			}
			rows[i] = map[string]interface{}{
				"id": m.ID, "owner_id": m.OwnerID, "subject": m.Subject, "body": body,
				"created_at": formatTime(m.CreatedAt, nil),
			}
			if st.route.op == opEdit {
				rows[i] = refill(st, rows[i], messageFields...)
			}
		}
		return rows, n
	})

	info := t.GetInfo()
	info.AddField("ID", "id", db.Int)
	if st.user.IsStaff() {
		info.AddField("Owner", "owner_id", db.Int).FieldFilterable()
	}
	info.AddField("Subject", "subject", db.Varchar)
	info.AddField("Body", "body", db.Text)
	info.AddField("Added (UTC)", "created_at", db.Varchar)
	info.SetTable("messages").SetTitle("Messages").SetDescription("What your mailings send")
	info.SetDeleteFn(func(ids []string) error {
		list, err := parseIDs(ids)
		if err != nil {
			return h.deleteError(st, err)
		}
		for _, id := range list {
			if err := svc.DeleteMessage(uctx, id); err != nil {
				return h.deleteError(st, err)
			}
		}
		return nil
	})

	fp := t.GetForm()
	fp.AddField("Subject", "subject", db.Varchar, form.Text).FieldMust().
		FieldHelpMsg("A single line. It may use {{.Name}} and {{.Email}} of the client.")
	fp.AddField("Body", "body", db.Text, form.TextArea).FieldMust().
		FieldHelpMsg("HTML. It may use {{.Name}} and {{.Email}} of the client.")
	fp.SetTable("messages").SetTitle("Message").SetDescription("The subject and body a mailing sends")
	fp.SetInsertFn(func(v gform.Values) error {
		_, err := svc.CreateMessage(uctx, mailing.Message{Subject: v.Get("subject"), Body: v.Get("body")})
		return h.formError(st, v, err)
	})
	fp.SetUpdateFn(func(v gform.Values) error {
		_, err := svc.UpdateMessage(uctx, mailing.Message{ID: int64Field(v.Get("id")), Subject: v.Get("subject"), Body: v.Get("body")})
		return h.formError(st, v, err)
	})
	prefill(st, fp)
	return t
}
