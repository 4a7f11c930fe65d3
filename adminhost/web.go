package adminhost

import (
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// wantsJSON reports whether the client expects a JSON answer: GoAdmin's
// AJAX calls and every POST but a form page's (PJAX).
func wantsJSON(r *http.Request) bool {
	if r.Header.Get("X-PJAX") != "" {
		return false
	}
	return r.Method != http.MethodGet || r.Header.Get("X-Requested-With") == "XMLHttpRequest" ||
		strings.Contains(r.Header.Get("Accept"), "application/json")
}

var statusSentences = map[int]string{
	http.StatusBadRequest:            "The request is malformed.",
	http.StatusUnauthorized:          "Log in first.",
	http.StatusForbidden:             "You are not allowed to do that.",
	http.StatusNotFound:              "Not found.",
	http.StatusConflict:              "The change clashes with what is stored.",
	http.StatusRequestEntityTooLarge: "The request is too large.",
	http.StatusInternalServerError:   "Something went wrong. Try again in a few minutes.",
}

// answer ends the request with status and msg (a sentence for a person;
// empty: the status's usual sentence), as JSON in GoAdmin's shape
// ({"code", "msg"}) or as a small page.
func (h *Host) answer(c *gin.Context, status int, msg string) {
	if msg == "" {
		msg = statusSentences[status]
		if msg == "" {
			msg = http.StatusText(status)
		}
	}
	if wantsJSON(c.Request) {
		c.AbortWithStatusJSON(status, gin.H{"code": status, "msg": msg})
		return
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	_, _ = fmt.Fprintf(c.Writer, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%[1]d %[2]s</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em">
<h1>%[2]s</h1><p>%[3]s</p><p><a href="%[4]s">Back to the dashboard</a></p></body></html>`,
		status, html.EscapeString(http.StatusText(status)), html.EscapeString(msg), Prefix)
	c.Abort()
}

// internal logs err and answers 500 without its details.
func (h *Host) internal(c *gin.Context, err error) {
	h.log.ErrorContext(c.Request.Context(), "adminhost: request failed",
		"method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	h.answer(c, http.StatusInternalServerError, "")
}

// recovery turns a panic (GoAdmin panics on SQL errors) into a logged 500.
func (h *Host) recovery(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.ErrorContext(c.Request.Context(), "adminhost: panic while serving a request",
				"method", c.Request.Method, "path", c.Request.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				h.answer(c, http.StatusInternalServerError, "")
			}
			c.Abort()
		}
	}()
	c.Next()
}

// accessLog logs every request at debug level, and failures above it.
func (h *Host) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelWarn
	}
	h.log.Log(c.Request.Context(), level, "adminhost: request",
		"method", c.Request.Method, "path", c.Request.URL.Path, "status", status,
		"duration", time.Since(start).Round(time.Microsecond).String())
}

// securityHeaders sets headers that cost GoAdmin's pages nothing, and the
// panel's Content-Security-Policy (csp.go).
func (h *Host) securityHeaders(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "SAMEORIGIN")
	hd.Set("Referrer-Policy", "same-origin")
	if p := c.Request.URL.Path; p == Prefix || strings.HasPrefix(p, Prefix+"/") {
		hd.Set("Cache-Control", "no-store")
		if p == Prefix+"/login" {
			hd.Set("Content-Security-Policy", h.loginCSP)
		} else {
			hd.Set("Content-Security-Policy", h.panelCSP)
		}
	}
	c.Next()
}

// cookieWriter adds SameSite (and Secure, when asked) to every cookie the
// application sets without them: GoAdmin sets its session cookie bare.
type cookieWriter struct {
	http.ResponseWriter
	secure bool
	done   bool
}

func (w *cookieWriter) fix() {
	if w.done {
		return
	}
	w.done = true
	cs := w.Header()["Set-Cookie"]
	for i, v := range cs {
		lv := strings.ToLower(v)
		if !strings.Contains(lv, "samesite=") {
			v += "; SameSite=Lax"
		}
		if w.secure && !strings.Contains(lv, "; secure") {
			v += "; Secure"
		}
		cs[i] = v
	}
}

func (w *cookieWriter) WriteHeader(code int) {
	w.fix()
	w.ResponseWriter.WriteHeader(code)
}

func (w *cookieWriter) Write(b []byte) (int, error) {
	w.fix()
	return w.ResponseWriter.Write(b)
}

func (w *cookieWriter) Flush() {
	w.fix()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *cookieWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// sameSite wraps next so that every cookie it sets is SameSite=Lax.
func sameSite(next http.Handler, secure bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&cookieWriter{ResponseWriter: w, secure: secure}, r)
	})
}
