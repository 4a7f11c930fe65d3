package adminhost

import (
	gctx "github.com/GoAdminGroup/go-admin/context"
	"github.com/GoAdminGroup/go-admin/modules/db"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/parameter"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/table"
	"github.com/GoAdminGroup/go-admin/template/types"
	"github.com/GoAdminGroup/go-admin/template/types/form"

	"github.com/skychimp/skychimp/accounts"
)

// The users table is for staff: a list with Block and Unblock. Accounts
// are created by registration (or the command line), never here.

func (h *Host) usersTable() *tableSpec {
	t := &tableSpec{
		prefix: "users",
		exists: opList,
		roles:  map[accounts.Role]op{accounts.RoleManager: opList, accounts.RoleSuperuser: opList},
	}
	t.build = func(ctx *gctx.Context, st *reqState) table.Table { return h.buildUsers(ctx, t, st) }
	return t
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (h *Host) buildUsers(ctx *gctx.Context, spec *tableSpec, st *reqState) table.Table {
	uctx := ctx.Request.Context()
	t := h.newTable(ctx, spec, st, func(p parameter.Parameters) ([]map[string]interface{}, int) {
		f := accounts.UserFilter{Search: p.GetFieldValue("email")}
		if r, err := accounts.ParseRole(p.GetFieldValue("role")); err == nil {
			f.Role = r
		}
		lo := listOptions(p)
		f.ListOptions = accounts.ListOptions{Limit: lo.Limit, Offset: lo.Offset}
		us, n, err := h.deps.Accounts.ListUsers(uctx, f)
		if err != nil {
			st.fail(err)
			return nil, 0
		}
		rows := make([]map[string]interface{}, len(us))
		for i, u := range us {
			rows[i] = map[string]interface{}{
				"id": u.ID, "email": u.Email, "full_name": u.FullName, "role": string(u.Role),
				"verified": yesNo(u.Verified), "blocked": yesNo(u.Blocked), "created_at": formatTime(u.CreatedAt, nil),
			}
		}
		return rows, n
	})
	roleOpts := make(types.FieldOptions, len(accounts.Roles))
	for i, r := range accounts.Roles {
		roleOpts[i] = types.FieldOption{Text: r.Label(), Value: string(r)}
	}
	info := t.GetInfo()
	info.AddField("ID", "id", db.Int)
	info.AddField("Email", "email", db.Varchar).FieldFilterable(types.FilterType{Operator: types.FilterOperatorLike, Placeholder: "email or name"})
	info.AddField("Name", "full_name", db.Varchar)
	info.AddField("Role", "role", db.Varchar).
		FieldFilterable(types.FilterType{FormType: form.SelectSingle}).FieldFilterOptions(roleOpts)
	info.AddField("Confirmed", "verified", db.Varchar)
	info.AddField("Blocked", "blocked", db.Varchar)
	info.AddField("Registered (UTC)", "created_at", db.Varchar).FieldDisplay(cellNowrap)
	noRowSelection(info)
	info.SetTable("users").SetTitle("Users").SetDescription("Everyone with an account")
	h.addRowActions(ctx, info, st.user.Role, "user-")
	return t
}
