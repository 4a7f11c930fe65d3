package adminhost

import (
	"bytes"
	"html"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// Sign-ins are limited per client address with a token bucket: a burst of
// Deps.SignInBurst tries, then one every Deps.SignInEvery. A try over the
// limit is answered 429 before the password is looked at, so guessing
// passwords from one address runs at a few tries a minute.

// limitMessage is what a refused sign-in says.
const limitMessage = "Too many attempts; try again in a minute"

// sweepEvery is how often the limiter forgets addresses whose bucket is
// full again, so that its memory follows the recent callers only.
const sweepEvery = time.Minute

// limiter is a token bucket per client address.
type limiter struct {
	mu        sync.Mutex
	burst     int
	every     time.Duration
	now       func() time.Time
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

func newLimiter(burst int, every time.Duration, now func() time.Time) *limiter {
	return &limiter{burst: burst, every: every, now: now, buckets: map[string]*rate.Limiter{}}
}

// allow takes a token from key's bucket. When there is none it reports
// false and how long until there is one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery || now.Before(l.lastSweep) {
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.buckets[key] = b
	}
	if b.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - b.TokensAt(now)
	return false, time.Duration(math.Ceil(missing * float64(l.every)))
}

// size is the number of addresses the limiter remembers.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// clientKey groups a client address: IPv4 by address, IPv6 by /64 (one
// host usually holds a whole /64).
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		if pfx, err := a.Prefix(64); err == nil {
			return pfx.String()
		}
	}
	return a.String()
}

// limitSignIn answers a sign-in over the client's allowance with 429: JSON
// for the login page's script, the login page with the reason for a plain
// form post. It reports whether the request may go on.
func (h *Host) limitSignIn(c *gin.Context) bool {
	ok, wait := h.signIns.allow(clientKey(c.ClientIP()))
	if ok {
		return true
	}
	h.log.WarnContext(c.Request.Context(), "adminhost: sign-in refused: too many attempts from one address", "client", c.ClientIP())
	c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	r := c.Request
	if r.Header.Get("X-Requested-With") != "" || strings.Contains(r.Header.Get("Accept"), "application/json") ||
		!strings.Contains(r.Header.Get("Accept"), "text/html") {
		c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"code": http.StatusTooManyRequests, "msg": limitMessage})
		return false
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(http.StatusTooManyRequests)
	_, _ = c.Writer.Write(h.loginPageWithError(limitMessage))
	c.Abort()
	return false
}

// loginPageWithError renders the login page showing msg.
func (h *Host) loginPageWithError(msg string) []byte {
	var b bytes.Buffer
	t, name := h.login.GetTemplate()
	if err := t.ExecuteTemplate(&b, name, struct {
		UrlPrefix string
		CdnUrl    string
	}{UrlPrefix: Prefix}); err != nil {
		return []byte(html.EscapeString(msg))
	}
	return bytes.Replace(b.Bytes(), []byte(loginErrorDiv),
		[]byte(`<div id="login-error" class="alert alert-danger" role="alert">`+html.EscapeString(msg)+`</div>`), 1)
}
