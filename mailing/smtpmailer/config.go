package smtpmailer

import (
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrBadConfig is wrapped by every configuration error.
var ErrBadConfig = errors.New("smtpmailer: bad configuration")

// TLSMode says how a connection is protected.
type TLSMode int

// The TLS modes.
const (
	// TLSNone sends in clear text.
	TLSNone TLSMode = iota
	// TLSStartTLS upgrades with STARTTLS, which is mandatory: a server that
	// does not offer it is an error, never a silent downgrade.
	TLSStartTLS
	// TLSImplicit speaks TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit
)

func (m TLSMode) String() string {
	switch m {
	case TLSNone:
		return "none"
	case TLSStartTLS:
		return "starttls"
	case TLSImplicit:
		return "tls"
	}
	return fmt.Sprintf("TLSMode(%d)", int(m))
}

// ParseTLSMode reads "none", "starttls" or "tls" (case-insensitive).
func ParseTLSMode(s string) (TLSMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "none", "plain", "":
		return TLSNone, nil
	case "starttls":
		return TLSStartTLS, nil
	case "tls", "ssl", "smtps":
		return TLSImplicit, nil
	}
	return 0, fmt.Errorf("%w: tls=%q: want none, starttls or tls", ErrBadConfig, s)
}

// Defaults used when a Config leaves a field zero.
const (
	DefaultConnections = 4
	DefaultDialTimeout = 10 * time.Second
	DefaultSendTimeout = 30 * time.Second
	maxConnections     = 1024
)

// Config configures a Mailer.
type Config struct {
	Host string
	// Port defaults to 25 (TLSNone), 587 (TLSStartTLS) or 465 (TLSImplicit).
	Port int
	// Username and Password, when Username is set, authenticate with
	// PLAIN, LOGIN or CRAM-MD5 (whichever the server offers, in that order
	// over TLS; CRAM-MD5 first in clear text). PLAIN and LOGIN are refused
	// over an unencrypted connection to anything but localhost.
	Username, Password string
	TLS                TLSMode
	// InsecureSkipVerify accepts any server certificate (for tests and
	// self-signed development servers only).
	InsecureSkipVerify bool
	// HELO is the name the client gives in EHLO; the default is the
	// machine's host name.
	HELO string
	// From and FromName are the sender used when an Envelope has none.
	From, FromName string
	// Connections is the size of the connection pool (default 4).
	Connections int
	// DialTimeout bounds connecting, the greeting, EHLO, STARTTLS and AUTH
	// (default 10s). SendTimeout bounds one message's transaction, from
	// MAIL FROM to the reply after the body (default 30s).
	DialTimeout, SendTimeout time.Duration
	// NoPipelining sends MAIL FROM, RCPT TO and DATA one at a time even
	// when the server offers PIPELINING (RFC 2920), which saves two round
	// trips per message.
	NoPipelining bool
}

// Server is "host:port", the key under which callers track this server.
func (c Config) Server() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.port()))
}

func (c Config) port() int {
	if c.Port != 0 {
		return c.Port
	}
	switch c.TLS {
	case TLSStartTLS:
		return 587
	case TLSImplicit:
		return 465
	}
	return 25
}

// withDefaults fills zero fields and checks the result.
func (c Config) withDefaults() (Config, error) {
	c.Host = strings.TrimSpace(c.Host)
	if c.Host == "" {
		return c, fmt.Errorf("%w: no host", ErrBadConfig)
	}
	if strings.ContainsAny(c.Host, " \t\r\n/@") {
		return c, fmt.Errorf("%w: host %q is not a host name", ErrBadConfig, c.Host)
	}
	c.Port = c.port()
	if c.Port < 1 || c.Port > 65535 {
		return c, fmt.Errorf("%w: port %d out of range 1-65535", ErrBadConfig, c.Port)
	}
	if c.TLS < TLSNone || c.TLS > TLSImplicit {
		return c, fmt.Errorf("%w: unknown TLS mode %d", ErrBadConfig, int(c.TLS))
	}
	if c.Connections == 0 {
		c.Connections = DefaultConnections
	}
	if c.Connections < 0 || c.Connections > maxConnections {
		return c, fmt.Errorf("%w: connections=%d: want 1-%d", ErrBadConfig, c.Connections, maxConnections)
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.SendTimeout == 0 {
		c.SendTimeout = DefaultSendTimeout
	}
	if c.DialTimeout < 0 || c.SendTimeout < 0 {
		return c, fmt.Errorf("%w: negative timeout", ErrBadConfig)
	}
	if c.From != "" {
		if _, err := parseAddr(c.From); err != nil {
			return c, fmt.Errorf("%w: from %q: %v", ErrBadConfig, c.From, err)
		}
	}
	if strings.ContainsAny(c.HELO, " \r\n") {
		return c, fmt.Errorf("%w: helo %q contains spaces", ErrBadConfig, c.HELO)
	}
	return c, nil
}

// ParseURL reads a configuration from a URL such as
//
//	smtp://user:pass@mail.example.com:587?tls=starttls&connections=8&timeout=30s
//
// The scheme is smtp (default tls=none) or smtps (default tls=tls). Query
// parameters: tls (none, starttls, tls), connections, timeout (per-send),
// dial_timeout, helo, from, from_name, insecure_skip_verify and pipelining
// (true/false).
// Unknown parameters are errors. User name and password are percent-decoded.
func ParseURL(raw string) (Config, error) {
	var c Config
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url errors quote the whole URL, password included: say less.
		return c, fmt.Errorf("%w: not a URL (want smtp://user:pass@host:port?tls=starttls)", ErrBadConfig)
	}
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		c.TLS = TLSNone
	case "smtps":
		c.TLS = TLSImplicit
	default:
		return c, fmt.Errorf("%w: scheme %q: want smtp or smtps", ErrBadConfig, u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return c, fmt.Errorf("%w: no host (want smtp://host:port)", ErrBadConfig)
	}
	if u.Path != "" && u.Path != "/" {
		return c, fmt.Errorf("%w: unexpected path %q", ErrBadConfig, u.Path)
	}
	c.Host = u.Hostname()
	if c.Host == "" || strings.Contains(c.Host, ":") && net.ParseIP(c.Host) == nil {
		return c, fmt.Errorf("%w: host %q is not a host name or IP address", ErrBadConfig, c.Host)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("%w: port %q out of range 1-65535", ErrBadConfig, p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return c, fmt.Errorf("%w: query: %v", ErrBadConfig, err)
	}
	for key, vals := range q {
		v := vals[len(vals)-1]
		switch key {
		case "tls":
			if c.TLS, err = ParseTLSMode(v); err != nil {
				return c, err
			}
		case "connections":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxConnections {
				return c, fmt.Errorf("%w: connections=%q: want 1-%d", ErrBadConfig, v, maxConnections)
			}
			c.Connections = n
		case "timeout", "dial_timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return c, fmt.Errorf("%w: %s=%q: want a positive duration such as 30s", ErrBadConfig, key, v)
			}
			if key == "timeout" {
				c.SendTimeout = d
			} else {
				c.DialTimeout = d
			}
		case "helo":
			c.HELO = v
		case "from":
			c.From = v
		case "from_name":
			c.FromName = v
		case "pipelining":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return c, fmt.Errorf("%w: pipelining=%q: want true or false", ErrBadConfig, v)
			}
			c.NoPipelining = !b
		case "insecure_skip_verify":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return c, fmt.Errorf("%w: insecure_skip_verify=%q: want true or false", ErrBadConfig, v)
			}
			c.InsecureSkipVerify = b
		default:
			return c, fmt.Errorf("%w: unknown parameter %q", ErrBadConfig, key)
		}
	}
	return c.withDefaults()
}

// parseAddr checks that s is a bare address (no display name).
func parseAddr(s string) (string, error) {
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return "", err
	}
	if a.Name != "" || strings.ContainsAny(s, "<>") {
		return "", errors.New("want a bare address such as name@example.com")
	}
	return a.Address, nil
}
