package pages

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// sweepEvery is how often the limiter forgets addresses whose bucket is full
// again (idle), so that its memory follows the recent callers only.
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

// allow takes a token from key's bucket, reporting whether there was one.
func (l *limiter) allow(key string) bool {
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
	return b.AllowN(now, 1)
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

// rateLimit refuses a request over the client's allowance with 429 and the
// form filled in again. The client address is gin's ClientIP, so the host
// must set the engine's trusted proxies (SetTrustedProxies) to match its
// deployment.
func (p *Pages) rateLimit(retry retryFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if p.limit.allow(clientKey(c.ClientIP())) {
			c.Next()
			return
		}
		c.Abort()
		p.d.Logger.WarnContext(c.Request.Context(), "pages: rate limit reached",
			"path", c.Request.URL.Path, "ip", c.ClientIP())
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(p.d.RateEvery.Seconds()))))
		retry(c, &summary{Kind: "error", Title: "Too many attempts",
			Lines: []string{"We received too many requests from your network in a short time, so this one was not sent. " +
				"Wait " + humanDuration(p.d.RateEvery.Round(time.Second)) + " and send the form again: what you typed is kept below."}},
			http.StatusTooManyRequests)
	}
}
