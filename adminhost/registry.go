package adminhost

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	gctx "github.com/GoAdminGroup/go-admin/context"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/table"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/internal/sqldb"
)

// op is one thing a route does with a table.
type op uint16

const (
	opList     op = 1 << iota // GET /info/t
	opDetail                  // GET /info/t/detail
	opEditForm                // GET /info/t/edit
	opNewForm                 // GET /info/t/new
	opEdit                    // POST /edit/t
	opNew                     // POST /new/t
	opDelete                  // POST /delete/t
	opExport                  // POST /export/t
)

// Sets of ops granted together.
const (
	opsRead  = opList | opDetail | opExport
	opsWrite = opsRead | opEditForm | opNewForm | opEdit | opNew | opDelete
)

func (o op) has(x op) bool { return o&x == x }

// tableSpec is one GoAdmin table of the host.
type tableSpec struct {
	prefix string
	// exists lists the ops the table has at all; others are 404.
	exists op
	// roles says what each role may do; a role without an entry does not
	// see the table at all (404).
	roles map[accounts.Role]op
	// lookup returns nil when the acting user (in ctx) may read object id;
	// nil for tables without per-object pages: their primary-key routes
	// are refused.
	lookup func(ctx context.Context, id int64) error
	// upload is the one form field of the table's forms that may carry a
	// file ("" for none); maxBody bounds its posts (0: maxBody).
	upload  string
	maxBody int64
	// build returns the table for one request.
	build func(ctx *gctx.Context, st *reqState) table.Table
}

func (t *tableSpec) ops(r accounts.Role) op { return t.roles[r] }

// actionSpec is one custom action (a button posting to /operation/id).
type actionSpec struct {
	id    string
	roles []accounts.Role
}

func (a *actionSpec) allows(r accounts.Role) bool { return slices.Contains(a.roles, r) }

// menuItem is one entry of the side menu.
type menuItem struct {
	id, parent, order int64
	title, icon, uri  string
	roles             []accounts.Role
	// needs names the service the entry's page needs ("blog", "stats");
	// without it the entry is left out.
	needs string
}

// menus is the side menu of every role, by role. A role needs at least one
// entry: GoAdmin sends a user without a menu back to the login page.
var menus = []menuItem{
	{id: 1, order: 1, title: "Dashboard", icon: "fa-dashboard", uri: "/",
		roles: []accounts.Role{accounts.RoleUser, accounts.RoleManager, accounts.RoleContentManager, accounts.RoleSuperuser}},
	{id: 2, order: 2, title: "Clients", icon: "fa-address-book", uri: "",
		roles: []accounts.Role{accounts.RoleUser, accounts.RoleSuperuser}},
	{id: 12, parent: 2, order: 1, title: "Client list", icon: "fa-list", uri: "/info/clients",
		roles: []accounts.Role{accounts.RoleUser, accounts.RoleSuperuser}},
	{id: 11, parent: 2, order: 2, title: "Import CSV", icon: "fa-upload", uri: pathImport,
		roles: []accounts.Role{accounts.RoleUser, accounts.RoleSuperuser}},
	{id: 3, order: 3, title: "Messages", icon: "fa-envelope", uri: "/info/messages",
		roles: []accounts.Role{accounts.RoleUser, accounts.RoleSuperuser}},
	{id: 4, order: 4, title: "Mailings", icon: "fa-paper-plane", uri: "/info/mailings",
		roles: []accounts.Role{accounts.RoleUser, accounts.RoleSuperuser}},
	{id: 5, order: 5, title: "All mailings", icon: "fa-paper-plane", uri: "/info/mailings",
		roles: []accounts.Role{accounts.RoleManager}},
	{id: 6, order: 6, title: "Send log", icon: "fa-list-alt", uri: "",
		roles: []accounts.Role{accounts.RoleUser, accounts.RoleManager, accounts.RoleSuperuser}},
	{id: 7, parent: 6, order: 7, title: "Deliveries", icon: "fa-inbox", uri: "/info/deliveries",
		roles: []accounts.Role{accounts.RoleUser, accounts.RoleManager, accounts.RoleSuperuser}},
	{id: 8, parent: 6, order: 8, title: "Attempts", icon: "fa-history", uri: "/info/attempts",
		roles: []accounts.Role{accounts.RoleUser, accounts.RoleManager, accounts.RoleSuperuser}},
	{id: 9, order: 9, title: "Users", icon: "fa-users", uri: "/info/users",
		roles: []accounts.Role{accounts.RoleManager, accounts.RoleSuperuser}},
	{id: 10, order: 10, title: "Blog", icon: "fa-newspaper-o", uri: "/info/posts", needs: "blog",
		roles: []accounts.Role{accounts.RoleContentManager, accounts.RoleSuperuser}},
}

// menuFor returns the menu entries of the services the host has.
func (h *Host) menuFor() []menuItem {
	out := make([]menuItem, 0, len(menus))
	for _, m := range menus {
		switch {
		case m.needs == "blog" && h.deps.Blog == nil, m.needs == "stats" && h.deps.Stats == nil:
			continue
		}
		out = append(out, m)
	}
	return out
}

// permissionPaths returns GoAdmin permission paths (regular expressions
// matched against the whole path after the prefix) for what role may do.
// GoAdmin checks them after the guard: a second, coarser lock.
func (h *Host) permissionPaths(role accounts.Role) []string {
	paths := []string{"/"}
	names := make([]string, 0, len(h.tables))
	for p := range h.tables {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		o := h.tables[p].ops(role)
		add := func(x op, path string) {
			if o.has(x) {
				paths = append(paths, path)
			}
		}
		add(opList, "/info/"+p)
		add(opDetail, "/info/"+p+"/detail")
		add(opEditForm, "/info/"+p+"/edit")
		add(opNewForm, "/info/"+p+"/new")
		add(opEdit, "/edit/"+p)
		add(opNew, "/new/"+p)
		add(opDelete, "/delete/"+p)
		add(opExport, "/export/"+p)
	}
	ids := make([]string, 0, len(h.actions))
	for id, a := range h.actions {
		if a.allows(role) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		paths = append(paths, "/operation/"+id)
	}
	ids = ids[:0]
	for id, p := range h.pages {
		if slices.Contains(p.sees, role) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if p := h.pages[id].permission; !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	return paths
}

// syncStatic writes the roles, their permissions and their menus from
// code, replacing whatever the tables held.
func (h *Host) syncStatic(ctx context.Context) error {
	p := h.proj
	return sqldb.InTx(ctx, p.db, func(tx *sql.Tx) error {
		exec := func(q string, args ...any) error {
			_, err := tx.ExecContext(ctx, q, args...)
			return err
		}
		var roleIDList, menuIDList []any
		for _, role := range accounts.Roles {
			id := roleIDs[role]
			roleIDList = append(roleIDList, id)
			q := p.upsert("goadmin_roles", []string{"id", "name", "slug"}, "id", []string{"name", "slug"})
			if err := exec(q, id, role.Label(), string(role)); err != nil {
				return fmt.Errorf("role %s: %w", role, err)
			}
			// One permission per role, with the role's id.
			q = p.upsert("goadmin_permissions", []string{"id", "name", "slug", "http_method", "http_path"}, "id",
				[]string{"name", "slug", "http_method", "http_path"})
			if err := exec(q, id, role.Label()+" pages", string(role), "", strings.Join(h.permissionPaths(role), "\n")); err != nil {
				return fmt.Errorf("permission of %s: %w", role, err)
			}
			if err := exec("DELETE FROM goadmin_role_permissions WHERE role_id = ? AND permission_id <> ?", id, id); err != nil {
				return err
			}
			if err := exec(p.insertIgnore("goadmin_role_permissions", []string{"role_id", "permission_id"}), id, id); err != nil {
				return err
			}
		}
		ph := sqldb.In(len(roleIDList))
		for _, t := range []string{"goadmin_roles", "goadmin_permissions"} {
			if err := exec("DELETE FROM "+t+" WHERE id NOT IN ("+ph+")", roleIDList...); err != nil {
				return err
			}
		}
		if err := exec("DELETE FROM goadmin_role_permissions WHERE role_id NOT IN ("+ph+") OR role_id <> permission_id", roleIDList...); err != nil {
			return err
		}
		if err := exec("DELETE FROM goadmin_role_users WHERE role_id NOT IN ("+ph+")", roleIDList...); err != nil {
			return err
		}

		menus := h.menuFor()
		for _, m := range menus {
			menuIDList = append(menuIDList, m.id)
			q := p.upsert("goadmin_menu", []string{"id", "parent_id", "type", "`order`", "title", "icon", "uri", "plugin_name"}, "id",
				[]string{"parent_id", "type", "`order`", "title", "icon", "uri", "plugin_name"})
			if err := exec(q, m.id, m.parent, 1, m.order, m.title, m.icon, m.uri, ""); err != nil {
				return fmt.Errorf("menu %q: %w", m.title, err)
			}
		}
		if err := exec("DELETE FROM goadmin_menu WHERE id NOT IN ("+sqldb.In(len(menuIDList))+")", menuIDList...); err != nil {
			return err
		}
		if err := exec("DELETE FROM goadmin_role_menu"); err != nil {
			return err
		}
		for _, m := range menus {
			for _, role := range m.roles {
				if err := exec(p.insertIgnore("goadmin_role_menu", []string{"role_id", "menu_id"}), roleIDs[role], m.id); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
