package adminhost

import (
	"context"
	"html/template"

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

func (h *Host) clientsTable() *tableSpec {
	t := &tableSpec{
		prefix: "clients",
		exists: opsWrite,
		roles:  map[accounts.Role]op{accounts.RoleUser: opsWrite, accounts.RoleSuperuser: opsWrite},
		lookup: func(ctx context.Context, id int64) error {
			_, err := h.deps.Mailings.GetClient(ctx, id)
			return err
		},
	}
	t.build = func(ctx *gctx.Context, st *reqState) table.Table { return h.buildClients(ctx, t, st) }
	return t
}

var clientFields = []string{"email", "name", "comment"}

func (h *Host) buildClients(ctx *gctx.Context, spec *tableSpec, st *reqState) table.Table {
	svc, uctx := h.deps.Mailings, ctx.Request.Context()
	t := h.newTable(ctx, spec, st, func(p parameter.Parameters) ([]map[string]interface{}, int) {
		f := mailing.ClientFilter{OwnerID: ownerFilter(p, st), Search: p.GetFieldValue("email")}
		if ids, ok := pkFilter(p); ok {
			f.IDs = ids
		} else {
			f.ListOptions = listOptions(p)
		}
		cs, n, err := svc.ListClients(uctx, f)
		if err != nil {
			st.fail(err)
			return nil, 0
		}
		rows := make([]map[string]interface{}, len(cs))
		for i, c := range cs {
			rows[i] = map[string]interface{}{
				"id": c.ID, "owner_id": c.OwnerID, "email": c.Email, "name": c.Name, "comment": c.Comment,
				"created_at": formatTime(c.CreatedAt, nil),
			}
			if st.route.op == opEdit {
				rows[i] = refill(st, rows[i], clientFields...)
			}
		}
		return rows, n
	})

	info := t.GetInfo()
	info.AddField("ID", "id", db.Int)
	if st.user.IsStaff() {
		info.AddField("Owner", "owner_id", db.Int).FieldFilterable()
	}
	info.AddField("Email", "email", db.Varchar).FieldFilterable(types.FilterType{Operator: types.FilterOperatorLike, Placeholder: "email or name"})
	info.AddField("Name", "name", db.Varchar)
	info.AddField("Comment", "comment", db.Text)
	info.AddField("Added (UTC)", "created_at", db.Varchar)
	info.SetTable("clients").SetTitle("Clients").SetDescription("The people your mailings go to")
	if st.user.Role == accounts.RoleUser || st.user.Role == accounts.RoleSuperuser {
		info.SetHeaderHtml(template.HTML(`<a class="btn btn-sm btn-default" href="` + Prefix + pathImport + `"><i class="fa fa-upload"></i> Import from a CSV file</a>`))
	}
	info.SetDeleteFn(func(ids []string) error {
		list, err := parseIDs(ids)
		if err != nil {
			return h.deleteError(st, err)
		}
		for _, id := range list {
			if err := svc.DeleteClient(uctx, id); err != nil {
				return h.deleteError(st, err)
			}
		}
		return nil
	})

	fp := t.GetForm()
	fp.AddField("Email", "email", db.Varchar, form.Email).FieldMust()
	fp.AddField("Name", "name", db.Varchar, form.Text)
	fp.AddField("Comment", "comment", db.Text, form.TextArea)
	fp.SetTable("clients").SetTitle("Client").SetDescription("A person your mailings go to")
	fp.SetInsertFn(func(v gform.Values) error {
		_, err := svc.CreateClient(uctx, mailing.Client{Email: v.Get("email"), Name: v.Get("name"), Comment: v.Get("comment")})
		return h.formError(st, v, err)
	})
	fp.SetUpdateFn(func(v gform.Values) error {
		c := mailing.Client{ID: int64Field(v.Get("id")), Email: v.Get("email"), Name: v.Get("name"), Comment: v.Get("comment")}
		_, err := svc.UpdateClient(uctx, c)
		return h.formError(st, v, err)
	})
	prefill(st, fp)
	return t
}

// prefill makes a refused new form show what the person typed.
func prefill(st *reqState, fp *types.FormPanel) {
	in := st.input()
	if in == nil || st.route.op != opNew {
		return
	}
	row := refill(st, nil, fieldNames(fp)...)
	for i := range fp.FieldList {
		if v, ok := row[fp.FieldList[i].Field].(string); ok {
			fp.FieldList[i].Default = template.HTML(v)
		}
	}
}

func fieldNames(fp *types.FormPanel) []string {
	out := make([]string, len(fp.FieldList))
	for i, f := range fp.FieldList {
		out[i] = f.Field
	}
	return out
}
