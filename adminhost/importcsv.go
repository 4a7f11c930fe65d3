package adminhost

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/clientcsv"
)

// The CSV import of clients, for users and superusers (clients always
// belong to whoever imports them): a file goes to clientcsv.Import, which
// stores every row or none. A refused file shows every problem with its
// line; a good one leads back to the page with "Imported N clients".

// importField is the form field of the file.
const importField = "file"

// importBodyLimit bounds an import's request: a file a little larger
// than clientcsv accepts still reaches it, to be refused with a sentence.
const importBodyLimit = clientcsv.MaxBytes + 1<<20

// importPage shows the import form.
func (h *Host) importPage(c *gin.Context) {
	st := stateFrom(c.Request.Context())
	if st == nil {
		h.anonymous(c)
		return
	}
	flash := ""
	if kind, n, ok := h.takeFlash(c); ok && kind == flashImported {
		flash = flashHTML(kind, n)
	}
	h.render(c, 0, "Import clients", "Add many clients at once from a CSV file", importHTML(h.newToken(), flash, "", nil))
}

// importPost imports the posted file.
func (h *Host) importPost(c *gin.Context) {
	st := stateFrom(c.Request.Context())
	if st == nil {
		h.anonymous(c)
		return
	}
	up := st.file()
	if up == nil {
		h.render(c, http.StatusUnprocessableEntity, "Import clients", "Nothing was imported",
			importHTML(h.newToken(), "", "Choose a CSV file to import.", nil))
		return
	}
	n, rowErrs, err := clientcsv.Import(c.Request.Context(), h.deps.Mailings, bytes.NewReader(up.data))
	switch {
	case err == nil:
		h.log.InfoContext(c.Request.Context(), "adminhost: clients imported", "user", st.user.ID, "clients", n)
		h.setFlash(c, flashImported, n)
		c.Redirect(http.StatusSeeOther, Prefix+pathImport)
	case len(rowErrs) > 0 && errors.Is(err, mailing.ErrInvalid):
		msg := fmt.Sprintf("Nothing was imported: the file has %d %s. Correct %s and import the whole file again.",
			len(rowErrs), plural(len(rowErrs), "problem", "problems"), plural(len(rowErrs), "it", "them"))
		h.render(c, http.StatusUnprocessableEntity, "Import clients", "Nothing was imported", importHTML(h.newToken(), "", msg, rowErrs))
	default:
		h.pageFailed(st, err)
	}
}

func importHTML(token, flash, problem string, rowErrs []clientcsv.RowError) template.HTML {
	var b strings.Builder
	b.WriteString(flash)
	if problem != "" {
		fmt.Fprintf(&b, `<div class="alert alert-danger" role="alert">%s</div>`, html.EscapeString(problem))
	}
	if len(rowErrs) > 0 {
		b.WriteString(`<div class="box box-danger"><div class="box-body table-responsive"><table class="table table-condensed" id="import-errors"><caption>Problems in the file</caption>`)
		b.WriteString(`<thead><tr><th scope="col">Line</th><th scope="col">Column</th><th scope="col">Problem</th></tr></thead><tbody>`)
		for _, e := range rowErrs {
			line := "whole file"
			if e.Line > 0 {
				line = fmt.Sprint(e.Line)
			}
			fmt.Fprintf(&b, `<tr class="import-error"><td>%s</td><td>%s</td><td>%s</td></tr>`,
				html.EscapeString(line), html.EscapeString(e.Field), html.EscapeString(e.Reason))
		}
		b.WriteString(`</tbody></table></div></div>`)
	}
	fmt.Fprintf(&b, `<div class="box box-primary"><div class="box-body">
<p>The file is a CSV file with one client per row: their email address, their full name (required) and optionally a comment.
Columns may be separated by commas, semicolons or tabs; text is UTF-8. A first row that names the columns
(<code>email</code>, <code>name</code>, <code>comment</code>, in any order) is taken as a header.
At most %d MiB.</p>
<p>If any row is wrong, or an address is already one of your clients, nothing is imported: every problem is listed
with its line so that you can correct the file and import it again.</p>
<pre style="max-width:32em">email,name,comment
ann@example.com,Ann Archer,met at the fair
bob@example.org,Bob Baker,
carla@example.net,,</pre>
<form method="post" action="%s" enctype="multipart/form-data" id="import-form">%s
<div class="form-group"><label for="import-file">CSV file</label>
<input type="file" id="import-file" name="%s" accept=".csv,.txt,text/csv,text/plain" required></div>
<button type="submit" class="btn btn-primary">Import</button>
<a class="btn btn-default" href="%s/info/clients">Back to the clients</a>
</form></div></div>`, clientcsv.MaxBytes>>20, Prefix+pathImport, tokenField(token), importField, Prefix)
	return template.HTML(b.String())
}
