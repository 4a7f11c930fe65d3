package mailing

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"text/template/parse"
	"time"

	"github.com/skychimp/skychimp/mailing/internal/htmltext"
)

// Recipient is the data a message template sees: {{.Name}}, {{.Email}}
// and {{.UnsubscribeURL}} (the recipient's one-click unsubscribe link;
// empty where the sender configured none).
type Recipient struct {
	Name           string
	Email          string
	UnsubscribeURL string
}

// Content is a message rendered for one recipient.
type Content struct {
	Subject string // one line: white space folded to single spaces
	HTML    string // the body, values HTML-escaped in context
	Text    string // the body's plain-text alternative
}

// Limits of a message template. They bound what one recipient's message
// may cost, so that no template (saved by any user) can exhaust the
// server: the checks run when the message is saved and on every render.
const (
	// MaxTemplateSize is the longest subject or body source accepted.
	MaxTemplateSize = 256 << 10
	// MaxRenderedSubject is the longest subject a render may produce.
	MaxRenderedSubject = 998
	// MaxRenderedBody is the largest HTML body a render may produce.
	MaxRenderedBody = 2 << 20
	// RenderTimeout bounds the time of one render.
	RenderTimeout = time.Second
)

// The functions a message template may call, beyond reading the fields of
// Recipient: the comparisons and logic of Go templates (eq, ne, lt, le,
// gt, ge, and, or, not), len, index and slice on strings, print, html,
// urlquery and js; and
//
//	upper s        s in upper case
//	lower s        s in lower case
//	trim s         s without leading and trailing white space
//	default d s    s, or d when s is empty: {{.Name | default "friend"}}
//
// Loops (range), sub-templates (define, template, block), printf and
// call are not available: a message renders in time proportional to its
// size.
var templateFuncs = map[string]any{
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"trim":  strings.TrimSpace,
	"default": func(d string, s string) string {
		if s == "" {
			return d
		}
		return s
	},
}

// allowedFuncs are the identifiers a template may call: templateFuncs and
// the harmless builtins.
var allowedFuncs = map[string]bool{
	"upper": true, "lower": true, "trim": true, "default": true,
	"and": true, "or": true, "not": true, "eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true,
	"len": true, "index": true, "slice": true, "print": true, "println": true, "html": true, "urlquery": true, "js": true,
}

// Template is a parsed message, ready to be personalised per recipient.
// It is safe for concurrent use.
//
// The text alternative is derived once, when the template is parsed: the
// body's source is converted to text with its actions kept, and that text
// template is what runs per recipient. Where the derived template does not
// give the same text as converting the rendered HTML (checked on sample
// recipients; for example an action inside a URL, which HTML escapes), the
// text is converted from each recipient's HTML instead.
type Template struct {
	subject *texttemplate.Template
	body    *htmltemplate.Template
	text    *texttemplate.Template // nil: convert each rendered body
}

// TemplateError says which field of a message does not parse or execute.
type TemplateError struct {
	Field string // "subject" or "body"
	Msg   string
}

func (e *TemplateError) Error() string { return "mailing: " + e.Field + " " + e.Msg }

func asTemplateError(err error, target **TemplateError) bool { return errors.As(err, target) }

// The recipients a template is checked with when it is parsed.
var samples = [...]Recipient{
	{Name: "Ann Example", Email: "ann@example.com", UnsubscribeURL: "https://example.com/unsubscribe/sample"},
	{Name: `Bob O'Neil & <Sons> "Ltd"`, Email: "bob.o'neil+news@example.com", UnsubscribeURL: "https://example.com/unsubscribe/sample?a=1&b=2"},
}

// ParseTemplate parses a message's subject (plain text) and body (HTML,
// contextually escaped), checks that they keep to the template language
// and its limits, and renders them for sample recipients.
func ParseTemplate(m Message) (*Template, error) {
	s, err := parseText("subject", m.Subject)
	if err != nil {
		return nil, err
	}
	if len(m.Body) > MaxTemplateSize {
		return nil, &TemplateError{"body", fmt.Sprintf("is longer than %d KB", MaxTemplateSize>>10)}
	}
	b, err := htmltemplate.New("body").Option("missingkey=error").Funcs(templateFuncs).Parse(m.Body)
	if err != nil {
		return nil, &TemplateError{"body", "is not a valid template: " + cleanTemplateErr(err)}
	}
	if err := checkTemplate("body", b.Templates(), func(t *htmltemplate.Template) *parse.Tree { return t.Tree }); err != nil {
		return nil, err
	}
	t := &Template{subject: s, body: b}
	var html [len(samples)]string
	for i, r := range samples {
		c, err := t.Render(r)
		if err != nil {
			return nil, err
		}
		html[i] = c.HTML
	}
	t.text = deriveText(m.Body, samples[:], html[:])
	return t, nil
}

// parseText parses a plain-text template (the subject, or a derived text
// body) and checks it.
func parseText(field, src string) (*texttemplate.Template, error) {
	if len(src) > MaxTemplateSize {
		return nil, &TemplateError{field, fmt.Sprintf("is longer than %d KB", MaxTemplateSize>>10)}
	}
	t, err := texttemplate.New(field).Option("missingkey=error").Funcs(templateFuncs).Parse(src)
	if err != nil {
		return nil, &TemplateError{field, "is not a valid template: " + cleanTemplateErr(err)}
	}
	if err := checkTemplate(field, t.Templates(), func(t *texttemplate.Template) *parse.Tree { return t.Tree }); err != nil {
		return nil, err
	}
	return t, nil
}

// checkTemplate refuses what the template language of messages leaves
// out: sub-templates, loops and functions not in the list.
func checkTemplate[T any](field string, ts []T, tree func(T) *parse.Tree) error {
	if len(ts) > 1 {
		return &TemplateError{field, "defines sub-templates (define or block), which messages do not support"}
	}
	for _, t := range ts {
		if tr := tree(t); tr != nil && tr.Root != nil {
			if err := checkNode(field, tr.Root); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkNode(field string, n parse.Node) error {
	bad := func(what string) error {
		return &TemplateError{field, what + ", which messages do not support"}
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkNode(field, c); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return checkNode(field, n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Cmds {
			if err := checkNode(field, c); err != nil {
				return err
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if err := checkNode(field, a); err != nil {
				return err
			}
		}
	case *parse.IdentifierNode:
		if !allowedFuncs[n.Ident] {
			return bad(fmt.Sprintf("calls the function %q", n.Ident))
		}
	case *parse.ChainNode:
		return checkNode(field, n.Node)
	case *parse.IfNode:
		return checkBranch(field, &n.BranchNode)
	case *parse.WithNode:
		return checkBranch(field, &n.BranchNode)
	case *parse.RangeNode:
		return bad("uses range (a loop)")
	case *parse.TemplateNode:
		return bad(fmt.Sprintf("calls the template %q", n.Name))
	case *parse.BreakNode, *parse.ContinueNode:
		return bad("uses break or continue")
	}
	return nil
}

func checkBranch(field string, b *parse.BranchNode) error {
	for _, n := range []parse.Node{b.Pipe, b.List, b.ElseList} {
		if err := checkNode(field, n); err != nil {
			return err
		}
	}
	return nil
}

// Render personalises the subject, the body and its text alternative for
// r. The subject has line breaks folded to spaces; values in the body are
// HTML-escaped. A render that passes a limit (MaxRenderedSubject,
// MaxRenderedBody, RenderTimeout) fails with a *TemplateError saying so.
func (t *Template) Render(r Recipient) (Content, error) {
	w := renderers.Get().(*renderer)
	defer renderers.Put(w)
	deadline := time.Now().Add(RenderTimeout)

	var c Content
	if err := w.run(t.subject, "subject", r, MaxRenderedSubject*4, deadline); err != nil {
		return c, err
	}
	c.Subject = foldSpace(w.buf.Bytes())
	if len(c.Subject) > MaxRenderedSubject {
		return c, &TemplateError{"subject", fmt.Sprintf("is longer than %d characters when rendered", MaxRenderedSubject)}
	}
	if err := w.run(t.body, "body", r, MaxRenderedBody, deadline); err != nil {
		return c, err
	}
	c.HTML = w.buf.String()
	if t.text == nil {
		c.Text = htmltext.Convert(c.HTML)
		return c, nil
	}
	if err := w.run(t.text, "body", r, MaxRenderedBody, deadline); err != nil {
		return c, err
	}
	c.Text = w.buf.String()
	return c, nil
}

// executor is what html/template and text/template have in common.
type executor interface {
	Execute(w io.Writer, data any) error
}

// renderer is a reusable output buffer that enforces a render's limits.
type renderer struct {
	buf      bytes.Buffer
	limit    int
	deadline time.Time
	writes   int
	exceeded error
}

var renderers = sync.Pool{New: func() any { return new(renderer) }}

func (w *renderer) run(t executor, field string, r Recipient, limit int, deadline time.Time) error {
	w.buf.Reset()
	if w.buf.Cap() > 4*MaxRenderedBody {
		w.buf = bytes.Buffer{} // do not keep a huge buffer in the pool
	}
	w.limit, w.deadline, w.writes, w.exceeded = limit, deadline, 0, nil
	err := t.Execute(w, r)
	if w.exceeded != nil {
		return &TemplateError{field, w.exceeded.Error()}
	}
	if err != nil {
		return &TemplateError{field, "cannot be rendered: " + cleanTemplateErr(err)}
	}
	return nil
}

func (w *renderer) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.limit {
		w.exceeded = fmt.Errorf("renders to more than %s (the limit)", size(w.limit))
		return 0, w.exceeded
	}
	if w.writes++; w.writes%64 == 0 && time.Now().After(w.deadline) {
		w.exceeded = fmt.Errorf("takes longer than %s to render (the limit)", RenderTimeout)
		return 0, w.exceeded
	}
	return w.buf.Write(p)
}

func size(n int) string {
	if n >= 1<<20 {
		return strconv.Itoa(n>>20) + " MB"
	}
	if n >= 1<<10 {
		return strconv.Itoa(n>>10) + " KB"
	}
	return strconv.Itoa(n) + " bytes"
}

// foldSpace joins the fields of b with single spaces.
func foldSpace(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, f := range bytes.Fields(b) {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.Write(f)
	}
	return sb.String()
}

// mark delimits a placeholder for an action while the body's source is
// converted to text. It cannot occur in a valid template's text (the
// derivation is skipped when it does).
const mark = '\x1a'

// deriveText returns the text template derived from the body's source, or
// nil when it does not reproduce, for every sample, the conversion of the
// sample's rendered html.
func deriveText(src string, rs []Recipient, html []string) *texttemplate.Template {
	if strings.ContainsRune(src, mark) {
		return nil
	}
	actions, marked := markActions(src)
	if actions == nil {
		return nil
	}
	converted := htmltext.ConvertMarked(marked, mark)
	var b strings.Builder
	for {
		i := strings.IndexRune(converted, mark)
		if i < 0 {
			b.WriteString(converted)
			break
		}
		j := strings.IndexRune(converted[i+1:], mark)
		if j < 0 {
			return nil
		}
		ref := converted[i+1 : i+1+j]
		link := strings.HasPrefix(ref, "L")
		n, err := strconv.Atoi(strings.TrimPrefix(ref, "L"))
		if err != nil || n >= len(actions) {
			return nil
		}
		b.WriteString(converted[:i])
		if link {
			// A link's url, written " (url)" only when it is not empty.
			pipe, ok := simplePipeline(actions[n])
			if !ok {
				return nil
			}
			b.WriteString("{{with " + pipe + "}} ({{.}}){{end}}")
		} else {
			b.WriteString(actions[n])
		}
		converted = converted[i+1+j+1:]
	}
	t, err := parseText("body", b.String())
	if err != nil {
		return nil
	}
	var out strings.Builder
	for i, r := range rs {
		out.Reset()
		if err := t.Execute(&out, r); err != nil || out.String() != htmltext.Convert(html[i]) {
			return nil
		}
	}
	return t
}

// simplePipeline returns the pipeline of an action that only prints one
// ("{{.UnsubscribeURL}}" gives ".UnsubscribeURL").
func simplePipeline(action string) (string, bool) {
	p := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(action, "{{"), "}}"))
	if p == "" || strings.ContainsAny(p, "-:=$\"'`/") {
		return "", false
	}
	for _, kw := range []string{"if", "else", "end", "with", "range", "define", "template", "block", "break", "continue"} {
		if p == kw || strings.HasPrefix(p, kw+" ") {
			return "", false
		}
	}
	return p, true
}

// markActions replaces every {{...}} action of src by a placeholder
// (mark, its index, mark) and returns the actions. It returns nil actions
// for an action that does not end.
func markActions(src string) ([]string, string) {
	actions := []string{}
	var b strings.Builder
	for {
		i := strings.Index(src, "{{")
		if i < 0 {
			b.WriteString(src)
			return actions, b.String()
		}
		end := actionEnd(src[i+2:])
		if end < 0 {
			return nil, ""
		}
		b.WriteString(src[:i])
		b.WriteRune(mark)
		b.WriteString(strconv.Itoa(len(actions)))
		b.WriteRune(mark)
		actions = append(actions, src[i:i+2+end])
		src = src[i+2+end:]
	}
}

// actionEnd returns the length of an action's rest, through its "}}",
// skipping quoted strings and comments; -1 when it does not end.
func actionEnd(s string) int {
	if strings.HasPrefix(s, "/*") || strings.HasPrefix(s, "- /*") {
		if j := strings.Index(s, "*/"); j >= 0 {
			if k := strings.Index(s[j:], "}}"); k >= 0 {
				return j + k + 2
			}
		}
		return -1
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\'', '`':
			for i++; i < len(s) && s[i] != c; i++ {
				if s[i] == '\\' && c != '`' {
					i++
				}
			}
		case '}':
			if i+1 < len(s) && s[i+1] == '}' {
				return i + 2
			}
		}
	}
	return -1
}

// cleanTemplateErr drops the "template: name:" prefix Go puts on errors.
func cleanTemplateErr(err error) string {
	msg := err.Error()
	for _, p := range []string{"template: subject:", "template: body:", "html/template:body:"} {
		msg = strings.TrimPrefix(msg, p)
	}
	return strings.TrimSpace(msg)
}

// TextOf returns the plain-text alternative of an HTML body, as a
// Template derives it: see Template.
func TextOf(html string) (string, error) {
	if len(html) > MaxRenderedBody {
		return "", &TemplateError{"body", fmt.Sprintf("is larger than %s", size(MaxRenderedBody))}
	}
	return htmltext.Convert(html), nil
}
