package adminhost

import (
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	gctx "github.com/GoAdminGroup/go-admin/context"
	"github.com/GoAdminGroup/go-admin/modules/db"
	"github.com/GoAdminGroup/go-admin/plugins/admin/models"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/form"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/parameter"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/table"
	"github.com/GoAdminGroup/go-admin/template/types"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/mailing"
)

// Every table of the host gets its rows, and saves and deletes them,
// through the domain services as the acting user: none of GoAdmin's own
// SQL runs on the service's tables. GoAdmin calls one data function
// (table.Config.GetDataFun) for the list, the export, the detail page and
// the edit form alike.

// buildTables returns the host's tables by prefix.
func (h *Host) buildTables() map[string]*tableSpec {
	ts := []*tableSpec{h.clientsTable(), h.messagesTable(), h.mailingsTable(), h.deliveriesTable(), h.attemptsTable(), h.usersTable()}
	if h.deps.Blog != nil {
		ts = append(ts, h.postsTable())
	}
	m := make(map[string]*tableSpec, len(ts))
	for _, t := range ts {
		m[t.prefix] = t
	}
	return m
}

// generator returns GoAdmin's generator of spec's table: it runs per
// request, after the guard and GoAdmin's own session check.
func (h *Host) generator(spec *tableSpec) table.Generator {
	return func(ctx *gctx.Context) table.Table {
		st := stateFrom(ctx.Request.Context())
		if st == nil {
			// Not a request the guard let through: act for nobody, so that
			// every service call is refused.
			st = &reqState{}
		}
		if gu, ok := ctx.User().(models.UserModel); ok && st.user.ID != 0 && gu.Id != st.user.ID {
			h.log.ErrorContext(ctx.Request.Context(), "adminhost: GoAdmin's session user differs from the guard's",
				"goadmin_user", gu.Id, "user", st.user.ID)
			st.fail(errors.New("session user mismatch"))
			st = &reqState{}
		}
		return spec.build(ctx, st)
	}
}

// newTable returns a GoAdmin table whose rows come from get, with the
// buttons of the ops the acting user has on spec.
func (h *Host) newTable(ctx *gctx.Context, spec *tableSpec, st *reqState, get table.GetDataFun) table.Table {
	o := spec.ops(st.user.Role)
	cfg := table.DefaultConfigWithDriver(h.goadminDriver())
	cfg.CanAdd = o.has(opNew)
	cfg.Editable = o.has(opEdit)
	cfg.Deletable = o.has(opDelete)
	cfg.Exportable = o.has(opExport)
	cfg.GetDataFun = get
	t := table.NewDefaultTable(ctx, cfg)
	info := t.GetInfo()
	if !o.has(opNew) {
		info.HideNewButton()
	}
	if !o.has(opEdit) {
		info.HideEditButton()
	}
	if !o.has(opDelete) {
		info.HideDeleteButton()
	}
	if !o.has(opDetail) {
		info.HideDetailButton()
	}
	if !o.has(opExport) {
		info.HideExportButton()
	}
	info.HideQueryInfo()
	// The filter form opens with the Filter button, so the rows come first.
	info.HideFilterArea()
	info.AddCSS(listCSS)
	return t
}

// listCSS fits GoAdmin's lists to the page. GoAdmin gives every data
// table a min-width of 1600px, wider than a 1366px screen less the menu,
// and sticks the operation column to the right edge: it covered the
// columns scrolled under it. Its cells also break anywhere, mid-word; here
// only long words break (and cells marked cellBreak anywhere).
const listCSS = `
.box-body table.table { min-width: 0 !important; }
.box-body table.table tbody tr td, .box-body table.table tbody tr th { word-break: normal; overflow-wrap: break-word; }
.box-body table.table td .cell-break { word-break: break-all; }
.box-body table.table td .cell-nowrap { white-space: nowrap; }
`

// cellBreak shows a long value (a server's answer, an address) that may
// wrap anywhere in a list.
func cellBreak(v types.FieldModel) interface{} {
	return template.HTML(`<span class="cell-break">` + html.EscapeString(v.Value) + `</span>`)
}

// cellNowrap shows a short value (a date, a state) on one line in a list.
func cellNowrap(v types.FieldModel) interface{} {
	return template.HTML(`<span class="cell-nowrap">` + html.EscapeString(v.Value) + `</span>`)
}

// noRowSelection takes row selection off a list. In the adminlte theme
// GoAdmin's HideRowSelector hides only the column chooser: the rows'
// checkboxes are always drawn, and the "Action" menu (delete or export
// the selected rows) shows whenever the table can delete or export.
func noRowSelection(info *types.InfoPanel) {
	info.HideRowSelector()
	info.HideCheckBoxColumn()
	info.AddCSS(`.box-header .btn-group:has(.grid-batch-0, .grid-batch-1) { display: none; }`)
}

func (h *Host) goadminDriver() string {
	if h.d == "mysql" {
		return db.DriverMysql
	}
	return db.DriverSqlite
}

// maxExport bounds an "export everything".
const maxExport = 10000

// listOptions returns the page GoAdmin asks for.
func listOptions(p parameter.Parameters) mailing.ListOptions {
	if p.IsAll() {
		return mailing.ListOptions{Limit: maxExport}
	}
	size := p.PageSizeInt
	if size <= 0 || size > 500 {
		size = 10
	}
	page := max(p.PageInt, 1)
	return mailing.ListOptions{Limit: size, Offset: (page - 1) * size}
}

// pkFilter returns the primary keys GoAdmin asks for (a detail page, an
// edit form, an export of selected rows, ?__pk=), if any. Malformed keys
// select nothing (an empty, non-nil slice).
func pkFilter(p parameter.Parameters) ([]int64, bool) {
	pks := p.PKs()
	if len(pks) == 0 {
		return nil, false
	}
	ids := make([]int64, 0, len(pks))
	for _, s := range pks {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || id <= 0 {
			return []int64{}, true
		}
		ids = append(ids, id)
	}
	return ids, true
}

// int64Field reads a positive integer filter or form value.
func int64Field(s string) int64 {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

// ownerFilter is the owner a staff member filters a list by (?owner_id=);
// for users the services ignore it anyway.
func ownerFilter(p parameter.Parameters, st *reqState) int64 {
	if !st.user.IsStaff() {
		return 0
	}
	return int64Field(p.GetFieldValue("owner_id"))
}

// formatTime shows t in loc, or "" for the zero time.
func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// Labels of form fields in error sentences.
var fieldLabels = map[string]string{
	"email": "Email", "name": "Name", "comment": "Comment", "subject": "Subject", "body": "Body",
	"message_id": "Message", "client_ids": "Clients", "start": "Start", "end": "End",
	"period": "Period", "time_zone": "Time zone",
	"title": "Title", "content": "Content", "published_at": "Publication date", "image": "Image",
}

// userMessage turns a service error into a sentence for the person.
func userMessage(err error) string {
	var ve *mailing.ValidationError
	var bve *blog.ValidationError
	switch {
	case errors.As(err, &bve):
		var b strings.Builder
		b.WriteString("Please correct the form:")
		for _, f := range bve.Fields {
			label := fieldLabels[f.Field]
			if label == "" {
				label = strings.ReplaceAll(f.Field, "_", " ")
			}
			if f.Field == "image" {
				// The image's reasons are sentences of their own.
				fmt.Fprintf(&b, " %s: %s.", label, strings.TrimSuffix(f.Message, "."))
			} else {
				fmt.Fprintf(&b, " %s %s.", label, f.Message)
			}
		}
		return b.String()
	case errors.As(err, &ve):
		var b strings.Builder
		b.WriteString("Please correct the form:")
		for _, f := range ve.Fields {
			label := fieldLabels[f.Field]
			if label == "" {
				label = strings.ReplaceAll(f.Field, "_", " ")
			}
			fmt.Fprintf(&b, " %s %s.", label, f.Message)
		}
		return b.String()
	case errors.Is(err, mailing.ErrNotFound), errors.Is(err, accounts.ErrNotFound), errors.Is(err, blog.ErrNotFound):
		return "Not found."
	case errors.Is(err, blog.ErrImage):
		var ie *blog.ImageError
		if errors.As(err, &ie) {
			return "The image was refused: " + strings.TrimSuffix(ie.Reason, ".") + "."
		}
		return "The image was refused."
	case errors.Is(err, blog.ErrConflict):
		return "The change clashes with what is stored: reload the page and try again."
	case errors.Is(err, mailing.ErrForbidden), errors.Is(err, accounts.ErrForbidden), errors.Is(err, blog.ErrForbidden):
		if s := detail(err, mailing.ErrForbidden, accounts.ErrForbidden, blog.ErrForbidden); s != "" {
			return "You are not allowed to do that: " + s + "."
		}
		return "You are not allowed to do that."
	case errors.Is(err, mailing.ErrConflict):
		if s := detail(err, mailing.ErrConflict); s != "" {
			return sentence(s)
		}
		return "The change clashes with what is stored."
	case errors.Is(err, mailing.ErrMailingOver):
		if s := detail(err, mailing.ErrMailingOver); s != "" {
			return "Nothing to send now: " + s + "."
		}
		return "Nothing to send now."
	case errors.Is(err, accounts.ErrUnauthenticated):
		return "Log in first."
	}
	return "Something went wrong. Try again in a few minutes."
}

// detail returns what an error says after one of the sentinels' text
// ("mailing: not allowed: managers cannot ..." gives "managers cannot ...").
func detail(err error, sentinels ...error) string {
	s := err.Error()
	for _, e := range sentinels {
		if i := strings.Index(s, e.Error()+": "); i >= 0 {
			return s[i+len(e.Error())+2:]
		}
	}
	return ""
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// isRefusal reports whether err is the service saying no to the person
// (bad input, someone else's object, a forbidden change), as opposed to a
// failure of the service.
func isRefusal(err error) bool {
	for _, e := range []error{mailing.ErrInvalid, mailing.ErrNotFound, mailing.ErrForbidden, mailing.ErrConflict,
		mailing.ErrMailingOver, accounts.ErrInvalid, accounts.ErrNotFound, accounts.ErrForbidden, accounts.ErrUnauthenticated,
		blog.ErrInvalid, blog.ErrNotFound, blog.ErrForbidden, blog.ErrConflict, blog.ErrImage} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// refusalStatus is the HTTP status of a refusal (isRefusal): another
// user's object reads as missing, 404.
func refusalStatus(err error) int {
	switch {
	case errors.Is(err, mailing.ErrNotFound), errors.Is(err, accounts.ErrNotFound), errors.Is(err, blog.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, mailing.ErrForbidden), errors.Is(err, accounts.ErrForbidden), errors.Is(err, blog.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, accounts.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, mailing.ErrConflict), errors.Is(err, blog.ErrConflict), errors.Is(err, mailing.ErrMailingOver):
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// formError turns a service error on a form's save into what GoAdmin
// shows above the form; a failure of the service is also recorded, so the
// guard answers 500.
func (h *Host) formError(st *reqState, v form.Values, err error) error {
	if err == nil {
		return nil
	}
	if !isRefusal(err) {
		st.fail(err)
	}
	st.keep(v)
	// GoAdmin puts the message into the page as HTML.
	return errors.New(html.EscapeString(userMessage(err)))
}

// refill returns row with the fields of a refused form's input, so that
// GoAdmin shows the person what they typed, with the error.
func refill(st *reqState, row map[string]interface{}, fields ...string) map[string]interface{} {
	in := st.input()
	if in == nil {
		return row
	}
	if row == nil {
		row = map[string]interface{}{}
	}
	for _, f := range fields {
		if vs := form.Values(in)[f+"[]"]; len(vs) > 0 {
			row[f] = strings.Join(vs, ",")
		} else if vs := in[f]; len(vs) > 0 {
			row[f] = vs[0]
		}
	}
	return row
}

// deleteError records why a delete was refused (GoAdmin itself would only
// say "delete fail").
func (h *Host) deleteError(st *reqState, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case !isRefusal(err):
		st.fail(err)
	case errors.Is(err, mailing.ErrConflict), errors.Is(err, blog.ErrConflict):
		st.refuse(409, userMessage(err))
	case errors.Is(err, mailing.ErrNotFound), errors.Is(err, accounts.ErrNotFound), errors.Is(err, blog.ErrNotFound):
		st.refuse(404, userMessage(err))
	default:
		st.refuse(403, userMessage(err))
	}
	return err
}

// parseIDs reads ids from GoAdmin's delete list.
func parseIDs(ss []string) ([]int64, error) {
	ids := make([]int64, 0, len(ss))
	for _, s := range ss {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("%w: %q is not an id", mailing.ErrNotFound, s)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// formValues returns the posted values of field; multi-selects post "field[]".
func formValues(v form.Values, field string) []string {
	if vs := v[field+"[]"]; len(vs) > 0 {
		return vs
	}
	return v[field]
}
