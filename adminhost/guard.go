package adminhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/mailing"
)

// The guard is a gin middleware in front of every GoAdmin route. GoAdmin's
// own checks are not a security boundary (its row filters yield to URL
// parameters, its routes act on any primary key, it exposes installers and
// menu editors), so the guard lets through only the routes this host uses,
// and only after checking, through the domain services, that the acting
// user may see every object the request names:
//
//   - an allow-list of routes; everything else under the prefix is 404;
//   - a POST that carries no sign of coming from this site's pages (none
//     of Sec-Fetch-Site, Origin, a same-host Referer) is 403 (origin.go);
//     logging out is such a POST (logout.go);
//   - the session is looked up here and its user re-read from accounts
//     (SessionUser) on every request, so a blocked user is logged out at
//     once on every instance; the user travels in the request's context
//     (accounts.WithUser) to the table functions, which call the services;
//   - a table the role has no menu for is 404; an operation the role may
//     not perform on a table it sees is 403;
//   - every primary key in the query or the form (__pk, the detail and
//     edit keys, the id of an edit, a delete or an export) is looked up
//     through the service as the acting user: another user's object is
//     404, before GoAdmin runs;
//   - query parameters that GoAdmin's gin adapter would let override the
//     route (__prefix, __goadmin_op_id) are refused, as are file uploads
//     and the single-field /update endpoint;
//   - paging and order (__page, __pageSize, __sort, __sort_type) must be
//     what a list can take, else 400 (query.go).

// Prefix is the path under which the admin panel is served.
const Prefix = "/admin"

// kind is what a route under Prefix does.
type kind int

const (
	kindPublic    kind = iota + 1 // login page, sign-in, assets
	kindLogout                    // the host ends the session (POST; a GET shows the form)
	kindDashboard                 // our dashboard page
	kindTable                     // a GoAdmin table route
	kindOperation                 // a custom action (action.Ajax)
	kindPage                      // a page of the host's own (report, import)
)

// route is a classified request.
type route struct {
	kind   kind
	op     op     // for kindTable
	prefix string // the table, for kindTable
	opID   string // the action, for kindOperation
	page   string // the page, for kindPage
	id     int64  // the object a page is about (from the path), for kindPage
}

var (
	reTableGET  = regexp.MustCompile(`^/info/([a-z][a-z0-9_]{0,39})(/detail|/edit|/new|)$`)
	reTablePOST = regexp.MustCompile(`^/(edit|new|delete|export)/([a-z][a-z0-9_]{0,39})$`)
	reOperation = regexp.MustCompile(`^/operation/([a-z][a-z0-9_-]{0,39})$`)
	reReport    = regexp.MustCompile(`^/report/([1-9][0-9]{0,17})$`)
	reResend    = regexp.MustCompile(`^/report/([1-9][0-9]{0,17})/resend$`)
)

// classify names the route of method and rest (the path after Prefix).
func classify(method, rest string) (route, bool) {
	switch method {
	case http.MethodGet:
		switch {
		case rest == "" || rest == "/":
			return route{kind: kindDashboard}, true
		case rest == "/login":
			return route{kind: kindPublic}, true
		case rest == logoutPath:
			return route{kind: kindLogout}, true
		case strings.HasPrefix(rest, "/assets/") && !strings.Contains(rest, ".."):
			return route{kind: kindPublic}, true
		}
		if m := reTableGET.FindStringSubmatch(rest); m != nil {
			o := map[string]op{"": opList, "/detail": opDetail, "/edit": opEditForm, "/new": opNewForm}[m[2]]
			return route{kind: kindTable, op: o, prefix: m[1]}, true
		}
		if m := reReport.FindStringSubmatch(rest); m != nil {
			id, _ := strconv.ParseInt(m[1], 10, 64)
			return route{kind: kindPage, page: pageReport, id: id}, true
		}
		if rest == pathImport {
			return route{kind: kindPage, page: pageImport}, true
		}
	case http.MethodPost:
		switch rest {
		case "/signin":
			return route{kind: kindPublic}, true
		case logoutPath:
			return route{kind: kindLogout}, true
		}
		if m := reTablePOST.FindStringSubmatch(rest); m != nil {
			o := map[string]op{"edit": opEdit, "new": opNew, "delete": opDelete, "export": opExport}[m[1]]
			return route{kind: kindTable, op: o, prefix: m[2]}, true
		}
		if m := reOperation.FindStringSubmatch(rest); m != nil {
			return route{kind: kindOperation, opID: m[1]}, true
		}
		if m := reResend.FindStringSubmatch(rest); m != nil {
			id, _ := strconv.ParseInt(m[1], 10, 64)
			return route{kind: kindPage, page: pageResend, id: id}, true
		}
		if rest == pathImport {
			return route{kind: kindPage, page: pageImportPost}, true
		}
	}
	return route{}, false
}

// Query parameters GoAdmin reads as route parameters (its gin adapter
// appends them to the query, after whatever the client sent, and the
// first value wins).
var routeParams = []string{"__prefix", "__goadmin_op_id"}

// maxBody bounds a request body (a message body may be 1 MiB); maxLoginBody
// bounds a sign-in.
const (
	maxBody      = 4 << 20
	maxLoginBody = 64 << 10
)

// Form and query keys GoAdmin takes primary keys from.
const (
	keyPK        = "__pk"
	keyDetailPK  = "__goadmin_detail_pk"
	keyEditPK    = "__goadmin_edit_pk"
	keyFormPK    = "id"
	keyPrevious  = "__go_admin_previous_"
	sessionCooky = "go_admin_session"
)

// reqState is one admin request's state, carried in its context from the
// guard to the table functions and back.
type reqState struct {
	user  accounts.User
	route route

	mu     sync.Mutex
	err    error  // an internal failure that a page could not show: the guard answers 500
	status int    // with msg: a refusal to answer instead of GoAdmin's own
	msg    string // a sentence for the person
	// posted is a refused form's input, shown again instead of the stored
	// values when GoAdmin renders the form once more.
	posted map[string][]string
	// up is the one file the request carried, if its route takes one.
	up *upload
}

// upload is a file sent with a form, held in memory.
type upload struct {
	name string // as the browser named it; never used as a path
	data []byte
}

func (st *reqState) setUpload(u *upload) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.up = u
}

// file returns the file the request carried, or nil.
func (st *reqState) file() *upload {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.up
}

// keep remembers a refused form's input.
func (st *reqState) keep(v map[string][]string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.posted = v
}

// input returns the refused form's input, if any.
func (st *reqState) input() map[string][]string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.posted
}

type stateKey struct{}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

// fail records an internal error (the first one wins).
func (st *reqState) fail(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err == nil {
		st.err = err
	}
}

// refuse records a refusal to send instead of GoAdmin's answer.
func (st *reqState) refuse(status int, msg string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.status == 0 {
		st.status, st.msg = status, msg
	}
}

func (h *Host) guard(c *gin.Context) {
	r := c.Request
	if r.URL.Path != Prefix && !strings.HasPrefix(r.URL.Path, Prefix+"/") {
		c.Next()
		return
	}
	rt, ok := classify(r.Method, strings.TrimPrefix(r.URL.Path, Prefix))
	if !ok {
		h.answer(c, http.StatusNotFound, "")
		return
	}
	q := r.URL.Query()
	for k := range q {
		k = strings.TrimSuffix(k, "[]")
		for _, p := range routeParams {
			if strings.HasPrefix(k, p) {
				h.answer(c, http.StatusNotFound, "")
				return
			}
		}
	}
	if r.Method == http.MethodPost && !sameOrigin(r) {
		h.answer(c, http.StatusForbidden, crossOriginRefusal)
		return
	}
	if rt.kind == kindLogout {
		if r.Method == http.MethodPost {
			h.logout(c)
		} else {
			h.logoutForm(c)
		}
		return
	}
	if rt.kind == kindPublic {
		if r.Method == http.MethodPost && r.URL.Path == Prefix+"/signin" && !h.limitSignIn(c) {
			return
		}
		if r.Method == http.MethodPost && r.Body != nil {
			r.Body = http.MaxBytesReader(c.Writer, r.Body, maxLoginBody)
		}
		c.Next()
		return
	}

	// What does not exist is 404 for everyone, logged in or not.
	var spec *tableSpec
	switch rt.kind {
	case kindTable:
		spec = h.tables[rt.prefix]
		if spec == nil || !spec.exists.has(rt.op) {
			h.answer(c, http.StatusNotFound, "")
			return
		}
	case kindOperation:
		if h.actions[rt.opID] == nil {
			h.answer(c, http.StatusNotFound, "")
			return
		}
	case kindPage:
		if h.pages[rt.page] == nil {
			h.answer(c, http.StatusNotFound, "")
			return
		}
	}
	// Paging and order that GoAdmin (or a page) would trust: 400.
	switch {
	case rt.kind == kindTable:
		if msg := checkListQuery(q); msg != "" {
			h.answer(c, http.StatusBadRequest, msg)
			return
		}
	case rt.kind == kindPage && rt.page == pageReport:
		if msg := checkInt(q, "page", "The page number", maxPage); msg != "" {
			h.answer(c, http.StatusBadRequest, msg)
			return
		}
	}

	ctx := r.Context()
	u, err := h.sessionUser(c)
	if err != nil {
		if !errors.Is(err, errNoSession) && !errors.Is(err, accounts.ErrUnauthenticated) {
			h.internal(c, fmt.Errorf("session: %w", err))
			return
		}
		h.anonymous(c)
		return
	}
	st := &reqState{user: u, route: rt}
	ctx = context.WithValue(accounts.WithUser(ctx, u), stateKey{}, st)
	c.Request = r.WithContext(ctx)
	r = c.Request

	switch rt.kind {
	case kindDashboard:
		h.buffered(c, st)
		return
	case kindOperation:
		if !h.actions[rt.opID].allows(u.Role) {
			h.answer(c, http.StatusNotFound, "")
			return
		}
		if status, msg := h.parseBody(c, st, bodyRules{}); status != 0 {
			h.answer(c, status, msg)
			return
		}
		h.buffered(c, st)
		return
	case kindPage:
		h.guardPage(c, st, h.pages[rt.page])
		return
	}

	if spec.ops(u.Role) == 0 {
		h.answer(c, http.StatusNotFound, "")
		return
	}
	if !spec.ops(u.Role).has(rt.op) {
		h.answer(c, http.StatusForbidden, "You are not allowed to do that.")
		return
	}
	if r.Method == http.MethodPost {
		if _, ok := q[keyFormPK]; ok {
			h.answer(c, http.StatusBadRequest, "The request is malformed.")
			return
		}
		rules := bodyRules{multipart: rt.op == opEdit || rt.op == opNew, limit: spec.maxBody}
		if rules.multipart {
			rules.file = spec.upload
		}
		if status, msg := h.parseBody(c, st, rules); status != 0 {
			h.answer(c, status, msg)
			return
		}
	}
	pks, status := requestPKs(r, rt.op)
	if status != 0 {
		h.answer(c, status, "")
		return
	}
	if len(pks) > 0 && spec.lookup == nil {
		h.answer(c, http.StatusNotFound, "")
		return
	}
	for _, id := range pks {
		if err := spec.lookup(ctx, id); err != nil {
			h.lookupFailed(c, err, rt.prefix, id)
			return
		}
	}
	if rt.op == opEdit || rt.op == opNew {
		safePrevious(r, rt.prefix)
	}
	h.buffered(c, st)
}

// lookupFailed answers a request naming an object the acting user may not
// see (404) or use (403), or whose look-up failed (500).
func (h *Host) lookupFailed(c *gin.Context, err error, what string, id int64) {
	switch {
	case errors.Is(err, mailing.ErrNotFound), errors.Is(err, accounts.ErrNotFound), errors.Is(err, blog.ErrNotFound):
		h.answer(c, http.StatusNotFound, "")
	case errors.Is(err, mailing.ErrForbidden), errors.Is(err, accounts.ErrForbidden), errors.Is(err, blog.ErrForbidden):
		h.answer(c, http.StatusForbidden, "You are not allowed to do that.")
	default:
		h.internal(c, fmt.Errorf("look up %s %d: %w", what, id, err))
	}
}

// sessionUser returns the user of the request's admin session, re-read
// from accounts. A session whose user may no longer be logged in is
// deleted. errNoSession when there is none.
func (h *Host) sessionUser(c *gin.Context) (accounts.User, error) {
	ck, err := c.Request.Cookie(sessionCooky)
	if err != nil || ck.Value == "" {
		return accounts.User{}, errNoSession
	}
	ctx := c.Request.Context()
	id, err := h.proj.sessionUserID(ctx, ck.Value, h.lifetime)
	if err != nil {
		if errors.Is(err, errNoSession) {
			h.expireCookie(c)
		}
		return accounts.User{}, err
	}
	u, err := h.deps.Accounts.SessionUser(ctx, id)
	if err != nil {
		if errors.Is(err, accounts.ErrUnauthenticated) {
			if derr := h.proj.deleteSession(ctx, ck.Value); derr != nil {
				h.log.ErrorContext(ctx, "adminhost: could not delete a dead session", "err", derr)
			}
			h.expireCookie(c)
		}
		return accounts.User{}, err
	}
	return u, nil
}

// expireCookie tells the browser to forget the session cookie.
func (h *Host) expireCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCooky, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.deps.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// anonymous answers a request that needs a session and has none.
func (h *Host) anonymous(c *gin.Context) {
	if c.Request.Method == http.MethodGet {
		c.Redirect(http.StatusFound, Prefix+"/login")
		c.Abort()
		return
	}
	h.answer(c, http.StatusUnauthorized, "Log in first.")
}

// bodyRules say what a POST body may be.
type bodyRules struct {
	multipart bool   // it must be multipart/form-data (GoAdmin's forms are)
	limit     int64  // its largest size; 0: maxBody
	file      string // the one form field that may carry a file; "": none may
}

// parseBody reads a POST body (bounded). No request may leave a file in
// the parsed form (GoAdmin would store it unchecked): the one file rules
// allow is read into memory, kept in st for the page or table function,
// and taken out of the form.
func (h *Host) parseBody(c *gin.Context, st *reqState, rules bodyRules) (int, string) {
	r := c.Request
	limit := rules.limit
	if limit <= 0 {
		limit = maxBody
	}
	r.Body = http.MaxBytesReader(c.Writer, r.Body, limit)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch {
	case ct == "multipart/form-data":
		// Everything stays in memory (the body is bounded): no temporary
		// files.
		err = r.ParseMultipartForm(limit)
	case rules.multipart:
		return http.StatusBadRequest, "The form must be sent as multipart/form-data."
	default:
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "The request is too large."
	case err != nil:
		return http.StatusBadRequest, "The request is malformed."
	case r.MultipartForm == nil || len(r.MultipartForm.File) == 0:
		return 0, ""
	}
	defer func() {
		_ = r.MultipartForm.RemoveAll()
		r.MultipartForm.File = map[string][]*multipart.FileHeader{}
	}()
	for field, fhs := range r.MultipartForm.File {
		if field != rules.file || rules.file == "" {
			return http.StatusBadRequest, "File uploads are not accepted here."
		}
		if len(fhs) != 1 {
			return http.StatusBadRequest, "Send one file at a time."
		}
	}
	fh := r.MultipartForm.File[rules.file][0]
	f, err := fh.Open()
	if err != nil {
		return http.StatusBadRequest, "The request is malformed."
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return http.StatusBadRequest, "The request is malformed."
	}
	st.setUpload(&upload{name: fh.Filename, data: data})
	return 0, ""
}

// requestPKs returns every primary key the request names, as GoAdmin will
// read them for op. A key GoAdmin needs but the request lacks, or a key
// given twice, is 404 (for pages) or 400 (for posts).
func requestPKs(r *http.Request, o op) ([]int64, int) {
	q := r.URL.Query()
	var raw []string
	one := func(vs []string, status int) (string, int) {
		if len(vs) != 1 || vs[0] == "" {
			return "", status
		}
		return vs[0], 0
	}
	if vs, ok := q[keyPK]; ok {
		if len(vs) != 1 {
			return nil, http.StatusNotFound
		}
		raw = append(raw, strings.Split(vs[0], ",")...)
	}
	switch o {
	case opDetail:
		v, status := one(q[keyDetailPK], http.StatusNotFound)
		if status != 0 {
			return nil, status
		}
		raw = append(raw, v)
	case opEditForm:
		v, status := one(q[keyEditPK], http.StatusNotFound)
		if status != 0 {
			return nil, status
		}
		raw = append(raw, v)
	case opEdit:
		v, status := one(r.MultipartForm.Value[keyFormPK], http.StatusBadRequest)
		if status != 0 {
			return nil, status
		}
		raw = append(raw, v)
	case opDelete:
		v, status := one(r.PostForm[keyFormPK], http.StatusBadRequest)
		if status != 0 {
			return nil, status
		}
		raw = append(raw, strings.Split(v, ",")...)
	case opExport:
		if vs := r.PostForm[keyFormPK]; len(vs) > 1 {
			return nil, http.StatusBadRequest
		} else if len(vs) == 1 && vs[0] != "" {
			raw = append(raw, strings.Split(vs[0], ",")...)
		}
	}
	ids := make([]int64, 0, len(raw))
	for _, s := range raw {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || id <= 0 {
			return nil, http.StatusNotFound
		}
		ids = append(ids, id)
	}
	return ids, 0
}

var safePath = regexp.MustCompile(`^/[A-Za-z0-9/_\-.~%=&?+,]*$`)

// safePrevious makes a form's "previous page" (where GoAdmin sends the
// browser after saving, inside a script tag) a plain path of this table.
func safePrevious(r *http.Request, prefix string) {
	vs := r.MultipartForm.Value[keyPrevious]
	list := Prefix + "/info/" + prefix
	for i, v := range vs {
		u, err := url.Parse(v)
		if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host == r.Host && u.User == nil {
			// "Continue editing" sends the page's own absolute URL.
			v = u.RequestURI()
			u, err = url.Parse(v)
		}
		if err != nil || u.Scheme != "" || u.Host != "" || !safePath.MatchString(v) ||
			(u.Path != list && !strings.HasPrefix(u.Path, list+"/")) {
			v = list
		}
		vs[i] = v
	}
}

// bufWriter holds GoAdmin's answer until the guard knows whether a table
// function failed, so that it can send an error instead.
type bufWriter struct {
	gin.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *bufWriter) WriteHeader(code int) {
	if code > 0 && w.status == 0 {
		w.status = code
	}
}
func (w *bufWriter) WriteHeaderNow() {}
func (w *bufWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.buf.Write(b)
}
func (w *bufWriter) WriteString(s string) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.buf.WriteString(s)
}
func (w *bufWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
func (w *bufWriter) Size() int     { return w.buf.Len() }
func (w *bufWriter) Written() bool { return w.status != 0 }
func (w *bufWriter) Flush()        {}

// buffered runs the rest of the chain with its answer held back, and
// sends it, or the error a table function recorded.
func (h *Host) buffered(c *gin.Context, st *reqState) {
	real := c.Writer
	bw := &bufWriter{ResponseWriter: real}
	c.Writer = bw
	// A panic drops the held answer: the recovery answers on the real writer.
	defer func() { c.Writer = real }()
	c.Next()
	c.Writer = real
	st.mu.Lock()
	err, status, msg := st.err, st.status, st.msg
	st.mu.Unlock()
	switch {
	case err != nil:
		h.internal(c, err)
	case status != 0:
		h.answer(c, status, msg)
	default:
		code := bw.Status()
		if i := bytes.Index(bw.buf.Bytes(), []byte(errorMarker)); i >= 0 && code == http.StatusOK {
			rest := bw.buf.Bytes()[i+len(errorMarker):]
			if n, err := strconv.Atoi(string(rest[:min(3, len(rest))])); err == nil && n >= 400 {
				code = n
			}
			if code >= 500 {
				h.log.ErrorContext(c.Request.Context(), "adminhost: GoAdmin failed to serve a page (its own error log is off)",
					"method", c.Request.Method, "path", c.Request.URL.Path)
			}
		}
		real.WriteHeader(code)
		_, _ = real.Write(bw.buf.Bytes())
	}
}
