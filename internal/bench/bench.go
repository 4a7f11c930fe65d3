package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skychimp/skychimp/internal/newsletter"
	"github.com/skychimp/skychimp/internal/smtptest"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/smtpmailer"
	"github.com/skychimp/skychimp/mailing/sqlstore"
)

// The cases a run measures.
const (
	CaseSMTP   = "smtp"   // the SMTP client alone: the ceiling
	CaseSQLite = "sqlite" // the engine with its ledger on SQLite
	CaseMySQL  = "mysql"  // the engine with its ledger on MySQL/MariaDB
)

// MySQLEnv names the environment variable that gives the default MySQL
// server for the MySQL case (a go-sql-driver DSN; its database part is
// ignored: the run creates its own database and drops it).
const MySQLEnv = "SKYCHIMP_TEST_MYSQL"

// Config says what to measure. Zero fields take their documented default.
type Config struct {
	// Sizes are the numbers of recipients to measure; default 10,000 and 100,000.
	Sizes []int
	// Workers is the number of concurrent sends (the engine's Workers and the
	// ceiling's goroutines); default 16.
	Workers int
	// Connections is the SMTP connection pool's size; default 8.
	Connections int
	// ClaimBatch is the engine's ClaimBatch; 0 means the engine's default.
	ClaimBatch int
	// MySQL is a go-sql-driver DSN of a server on which the run creates a
	// fresh database per size and drops it after; empty skips the MySQL case.
	MySQL string
	// Dir holds the SQLite database files, each removed after its case;
	// default a new temporary directory.
	Dir string
	// Cases limits the run to these cases (CaseSMTP, CaseSQLite, CaseMySQL);
	// empty means all. The ratio needs CaseSMTP.
	Cases []string
	// Repeat runs every case this many times per size, one case after the
	// other, and keeps each case's fastest run (on a shared machine, other
	// load only slows a run down); memory peaks and first-message latencies
	// are the worst of all runs. Default 1.
	Repeat int
	// Subject and Body are the message's templates (Body is HTML). The
	// default is the newsletter: about 5 KB of personalised HTML with
	// links and an unsubscribe link.
	Subject, Body string
	// SMTP, when set, is the URL of the server every case sends to
	// (smtp://host:port, see smtpmailer.ParseURL) instead of a sink; what
	// it accepted is then not checked.
	SMTP string
	// SinkCommand, when SMTP is empty, starts the sink as a child process
	// (a command that runs ServeSink), so that its CPU is measured apart
	// from the sender's; empty runs the sink inside this process.
	SinkCommand []string
	// Log receives a line per phase as the run goes; nil discards them.
	Log io.Writer
}

func (c *Config) setDefaults() {
	if len(c.Sizes) == 0 {
		c.Sizes = []int{10_000, 100_000}
	}
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.Connections <= 0 {
		c.Connections = 8
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if len(c.Cases) == 0 {
		c.Cases = []string{CaseSMTP, CaseSQLite, CaseMySQL}
	}
	if c.Repeat <= 0 {
		c.Repeat = 1
	}
	if c.Subject == "" {
		c.Subject = newsletter.Subject
	}
	if c.Body == "" {
		c.Body = newsletter.HTML
	}
}

func (c *Config) wants(name string) bool {
	for _, n := range c.Cases {
		if n == name {
			return true
		}
	}
	return false
}

// Result is one case measured at one size.
type Result struct {
	Case string `json:"case"`
	N    int    `json:"n"`
	// Seconds is the wall time from the first send (for the engine: from the
	// call of RunDue, which opens the run) until the last message was accepted
	// and recorded.
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	// Ratio is MsgsPerSec over the SMTP ceiling's at the same N (0 when the
	// ceiling was not measured).
	Ratio float64 `json:"ratio"`
	// CPURatio is the ceiling's CPU time per recipient over this case's (0
	// without the ceiling): the share of the process's CPU left to sending,
	// which other load on the machine does not skew. For MySQL it leaves out
	// the database server's own CPU.
	CPURatio float64 `json:"cpu_ratio"`
	// Runs is how many runs the result was kept from (see Config.Repeat).
	Runs int `json:"runs"`
	// PeakHeapMB is the peak of the Go heap (objects, live or not yet
	// collected) during the phase; PeakRSSMB the peak resident set of the
	// whole process (0 where the system does not tell).
	PeakHeapMB float64 `json:"peak_heap_mb"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`
	// FirstMessageMS is the time from the start of the phase (the call of
	// RunDue for the engine) to the first message accepted by the server.
	FirstMessageMS float64 `json:"first_message_ms"`
	// MicrosPerRecipient is the wall time per recipient; CPUMicrosPerRecipient
	// the CPU time of the sending process (engine, SMTP client and database
	// driver; and the sink when it runs in the process) per recipient, and
	// CPUSecondsPer1k the same in CPU-seconds per 1,000 messages.
	MicrosPerRecipient    float64 `json:"us_per_recipient"`
	CPUMicrosPerRecipient float64 `json:"cpu_us_per_recipient"`
	CPUSecondsPer1k       float64 `json:"cpu_s_per_1k"`
	// SinkCPUSecondsPer1k is the CPU of the sink's own process per 1,000
	// messages (0 when the sink runs in the process or is external).
	SinkCPUSecondsPer1k float64 `json:"sink_cpu_s_per_1k,omitempty"`
	// LedgerWrites counts the engine's ledger write calls (claims, starts
	// and finishes, each one transaction) per 100 recipients.
	LedgerWrites float64 `json:"ledger_writes_per_100,omitempty"`
	// SetupSeconds is the time spent creating the clients, the message and
	// the mailing (not measured).
	SetupSeconds float64 `json:"setup_seconds,omitempty"`
	// MessageBytes is the size of one message as sent (the last one).
	MessageBytes int `json:"message_bytes,omitempty"`
}

// Report is the outcome of a run.
type Report struct {
	GoVersion   string   `json:"go_version"`
	Sink        string   `json:"sink"` // where the messages went
	CPUs        int      `json:"cpus"`
	Workers     int      `json:"workers"`
	Connections int      `json:"connections"`
	Repeat      int      `json:"repeat"`
	Results     []Result `json:"results"`
	// Skipped says why a case was not measured.
	Skipped []string `json:"skipped,omitempty"`
}

// Run measures every case at every size. The SMTP ceiling of a size runs
// first so the others can be compared with it.
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg.setDefaults()
	rep := Report{GoVersion: runtime.Version(), CPUs: runtime.GOMAXPROCS(0), Workers: cfg.Workers, Connections: cfg.Connections, Repeat: cfg.Repeat}
	switch {
	case cfg.SMTP != "":
		rep.Sink = "external SMTP server"
	case len(cfg.SinkCommand) > 0:
		rep.Sink = "SMTP sink in a child process"
	default:
		rep.Sink = "SMTP sink in this process"
	}
	for _, n := range cfg.Sizes {
		if n <= 0 {
			return rep, fmt.Errorf("bench: size %d: want a positive number of recipients", n)
		}
	}
	if cfg.wants(CaseMySQL) && cfg.MySQL == "" {
		rep.Skipped = append(rep.Skipped, "mysql: no server given (set "+MySQLEnv+" or --mysql to a DSN such as root@tcp(127.0.0.1:3306)/test)")
	}
	if cfg.Dir == "" && cfg.wants(CaseSQLite) {
		dir, err := os.MkdirTemp("", "skychimp-bench-")
		if err != nil {
			return rep, fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.Dir = dir
	}
	for _, n := range cfg.Sizes {
		best := map[string]Result{}
		for run := range cfg.Repeat {
			for _, c := range []string{CaseSMTP, CaseSQLite, CaseMySQL} {
				if !cfg.wants(c) || (c == CaseMySQL && cfg.MySQL == "") {
					continue
				}
				if cfg.Repeat > 1 {
					fmt.Fprintf(cfg.Log, "%-6s n=%d: run %d of %d\n", c, n, run+1, cfg.Repeat)
				}
				r, err := runCase(ctx, cfg, c, n)
				if err != nil {
					return rep, err
				}
				if b, ok := best[c]; ok {
					r = merge(b, r)
				}
				best[c] = r
			}
		}
		ceiling, hasCeiling := best[CaseSMTP]
		for _, c := range []string{CaseSMTP, CaseSQLite, CaseMySQL} {
			r, ok := best[c]
			if !ok {
				continue
			}
			if hasCeiling {
				r.Ratio = r.MsgsPerSec / ceiling.MsgsPerSec
				if r.CPUMicrosPerRecipient > 0 {
					r.CPURatio = ceiling.CPUMicrosPerRecipient / r.CPUMicrosPerRecipient
				}
			}
			rep.Results = append(rep.Results, r)
		}
	}
	return rep, nil
}

// runCase measures one case at one size on a fresh database.
func runCase(ctx context.Context, cfg Config, name string, n int) (Result, error) {
	switch name {
	case CaseSMTP:
		fmt.Fprintf(cfg.Log, "smtp   n=%d: sending\n", n)
		return RunSMTP(ctx, cfg, n)
	case CaseSQLite:
		path := filepath.Join(cfg.Dir, "bench-"+strconv.Itoa(n)+".db")
		defer func() {
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				_ = os.Remove(p)
			}
		}()
		return RunEngine(ctx, cfg, CaseSQLite, "sqlite:"+path, n)
	}
	url, drop, err := createMySQL(ctx, cfg.MySQL)
	if err != nil {
		return Result{}, err
	}
	r, err := RunEngine(ctx, cfg, CaseMySQL, url, n)
	if derr := drop(); err == nil {
		err = derr
	}
	return r, err
}

// merge keeps the faster of two runs of a case, with the worse of their
// memory peaks and first-message latencies.
func merge(a, b Result) Result {
	best, other := a, b
	if b.MsgsPerSec > a.MsgsPerSec {
		best, other = b, a
	}
	best.PeakHeapMB = max(best.PeakHeapMB, other.PeakHeapMB)
	best.PeakRSSMB = max(best.PeakRSSMB, other.PeakRSSMB)
	best.FirstMessageMS = max(best.FirstMessageMS, other.FirstMessageMS)
	best.Runs += other.Runs
	return best
}

const (
	fromAddr = "news@example.com"
	fromName = "Example Co."
)

// recipient is the i-th client of a run.
func recipient(i int) mailing.Recipient {
	s := strconv.Itoa(i + 1)
	return mailing.Recipient{Name: "Client " + s, Email: "client" + s + "@example.org"}
}

// secret signs the unsubscribe links, as the service does.
var secret = []byte("bench-secret-0123456789abcdef")

func unsubscribeURL(d mailing.Delivery) string {
	return "https://example.com/unsubscribe/" + mailing.UnsubscribeToken(secret, d)
}

// newSink starts an in-process SMTP server that counts messages.
func newSink() (*smtptest.Server, error) {
	srv, err := smtptest.New(smtptest.Options{Sink: true, Domain: "sink.local"})
	if err != nil {
		return nil, fmt.Errorf("bench: start SMTP sink: %w", err)
	}
	return srv, nil
}

func newMailer(t *target, cfg Config) (*smtpmailer.Mailer, error) {
	m, err := smtpmailer.New(smtpmailer.Config{
		Host: t.host, Port: t.port, HELO: "bench.local",
		TLS: t.tls.TLS, Username: t.tls.Username, Password: t.tls.Password, InsecureSkipVerify: t.tls.InsecureSkipVerify,
		From: fromAddr, FromName: fromName, Connections: cfg.Connections,
	})
	if err != nil {
		return nil, fmt.Errorf("bench: SMTP client: %w", err)
	}
	return m, nil
}

// phase times one measured phase: memory peaks, CPU and wall time, and
// the first message accepted.
type phase struct {
	start   time.Time
	cpu     time.Duration
	sinkCPU time.Duration
	target  *target
	mem     *sampler
	first   atomic.Int64                     // ns from start to the first accepted message; 0: none yet
	last    atomic.Pointer[mailing.Envelope] // a message the engine sent
}

func startPhase(t *target) *phase {
	settle()
	p := &phase{mem: startSampler(), cpu: cpuTime(), target: t, sinkCPU: t.cpu()}
	p.start = time.Now()
	return p
}

// accepted notes that a message was accepted now.
func (p *phase) accepted() {
	if p.first.Load() == 0 {
		p.first.CompareAndSwap(0, int64(max(time.Since(p.start), 1)))
	}
}

func (p *phase) end(name string, n int) Result {
	elapsed := time.Since(p.start)
	cpu := cpuTime() - p.cpu
	sinkCPU := p.target.cpu() - p.sinkCPU
	heap, rss := p.mem.Stop()
	const mb = 1 << 20
	return Result{
		CPUSecondsPer1k:     cpu.Seconds() * 1000 / float64(n),
		SinkCPUSecondsPer1k: sinkCPU.Seconds() * 1000 / float64(n),

		Case: name, N: n,
		Seconds:               elapsed.Seconds(),
		MsgsPerSec:            float64(n) / elapsed.Seconds(),
		PeakHeapMB:            float64(heap) / mb,
		PeakRSSMB:             float64(rss) / mb,
		FirstMessageMS:        float64(p.first.Load()) / float64(time.Millisecond),
		MicrosPerRecipient:    float64(elapsed.Microseconds()) / float64(n),
		CPUMicrosPerRecipient: float64(cpu.Microseconds()) / float64(n),
		Runs:                  1,
	}
}

// RunSMTP measures the ceiling: the SMTP client alone sending n messages
// from cfg.Workers goroutines over cfg.Connections connections to the
// case's server. The envelopes are those the engine would send (the same
// personalised subject, body, text part, headers and unsubscribe link),
// personalised by replacement from one render, so the ceiling pays for
// building and sending each MIME message but not for template execution.
func RunSMTP(ctx context.Context, cfg Config, n int) (Result, error) {
	cfg.setDefaults()
	t, err := newTarget(ctx, cfg)
	if err != nil {
		return Result{}, err
	}
	defer t.close()
	m, err := newMailer(t, cfg)
	if err != nil {
		return Result{}, err
	}
	defer m.Close()
	tmpl, err := mailing.ParseTemplate(mailing.Message{Subject: cfg.Subject, Body: cfg.Body})
	if err != nil {
		return Result{}, fmt.Errorf("bench: %w", err)
	}
	sd := mailing.Delivery{ID: 1 << 40, MailingID: 1 << 40, ClientID: 1 << 40}
	sample := mailing.Recipient{Name: "Sample Name", Email: "sample@example.org", UnsubscribeURL: unsubscribeURL(sd)}
	c, err := tmpl.Render(sample)
	if err != nil {
		return Result{}, fmt.Errorf("bench: %w", err)
	}
	subject, html, text := split(c.Subject, sample), split(c.HTML, sample), split(c.Text, sample)
	envelope := func(i int) mailing.Envelope {
		r := recipient(i)
		d := mailing.Delivery{ID: int64(i + 1), MailingID: 1, ClientID: int64(i + 1)}
		r.UnsubscribeURL = unsubscribeURL(d)
		return mailing.Envelope{
			From: fromAddr, FromName: fromName, To: r.Email, ToName: r.Name,
			Subject: subject.fill(r), HTML: html.fill(r), Text: text.fill(r),
			Headers:         map[string]string{"X-Skychimp-Delivery": strconv.FormatInt(d.ID, 10)},
			ListUnsubscribe: r.UnsubscribeURL,
		}
	}

	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	p := startPhase(t)
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if _, err := m.Send(ctx, envelope(i)); err != nil {
					errOnce.Do(func() { firstErr = err })
					next.Store(int64(n))
					return
				}
				p.accepted()
			}
		}()
	}
	wg.Wait()
	r := p.end(CaseSMTP, n)
	r.MessageBytes = messageBytes(envelope(n - 1))
	if firstErr != nil {
		return r, fmt.Errorf("bench: smtp n=%d: %w", n, firstErr)
	}
	if err := ctx.Err(); err != nil {
		return r, err
	}
	if err := checkAccepted(t, n); err != nil {
		return r, fmt.Errorf("bench: smtp n=%d: %w", n, err)
	}
	return r, nil
}

// messageBytes is the size of e's message.
func messageBytes(e mailing.Envelope) int {
	b, err := smtpmailer.Render(e, fromAddr, fromName)
	if err != nil {
		return 0
	}
	return len(b)
}

// checkAccepted checks that the server accepted n messages, where it says.
func checkAccepted(t *target, n int) error {
	got, err := t.accepted()
	if err != nil {
		return err
	}
	if got >= 0 && got != int64(n) {
		return fmt.Errorf("the server accepted %d messages", got)
	}
	return nil
}

// personalised is text rendered for a sample recipient, cut where the
// sample's values are, to be filled in for another recipient.
type personalised struct {
	parts  []string // the text between the values
	fields []int    // after parts[i]: 0 name, 1 email, 2 unsubscribe link
	size   int
}

// split cuts text rendered for sample around sample's values.
func split(text string, sample mailing.Recipient) personalised {
	values := []string{sample.Name, sample.Email, sample.UnsubscribeURL}
	var p personalised
	for {
		at, field := -1, -1
		for f, v := range values {
			if i := strings.Index(text, v); i >= 0 && (at < 0 || i < at) {
				at, field = i, f
			}
		}
		if at < 0 {
			p.parts = append(p.parts, text)
			p.size += len(text)
			return p
		}
		p.parts, p.fields = append(p.parts, text[:at]), append(p.fields, field)
		p.size += len(text[:at])
		text = text[at+len(values[field]):]
	}
}

// fill personalises p for r.
func (p personalised) fill(r mailing.Recipient) string {
	values := [3]string{r.Name, r.Email, r.UnsubscribeURL}
	var b strings.Builder
	b.Grow(p.size + 128)
	for i, part := range p.parts {
		b.WriteString(part)
		if i < len(p.fields) {
			b.WriteString(values[p.fields[i]])
		}
	}
	return b.String()
}

// countingMailer notes when the first message is accepted.
type countingMailer struct {
	mailing.Mailer
	p *phase
}

func (m countingMailer) Send(ctx context.Context, e mailing.Envelope) (mailing.Reply, error) {
	reply, err := m.Mailer.Send(ctx, e)
	if err == nil {
		m.p.accepted()
		if m.p.first.Load() > 0 && m.p.last.Load() == nil {
			m.p.last.Store(&e)
		}
	}
	return reply, err
}

// countingStore counts the ledger writes of the delivery loop.
type countingStore struct {
	mailing.Store
	writes atomic.Int64
}

func (s *countingStore) ClaimDeliveries(ctx context.Context, r mailing.ClaimRequest) ([]mailing.Delivery, error) {
	s.writes.Add(1)
	return s.Store.ClaimDeliveries(ctx, r)
}

func (s *countingStore) StartDeliveries(ctx context.Context, owner string, ids []int64, now time.Time) ([]int64, error) {
	s.writes.Add(1)
	return s.Store.StartDeliveries(ctx, owner, ids, now)
}

func (s *countingStore) AdvanceDeliveries(ctx context.Context, owner string, results []mailing.Result, ids []int64, now time.Time) ([]int64, error) {
	s.writes.Add(1)
	return s.Store.AdvanceDeliveries(ctx, owner, results, ids, now)
}

func (s *countingStore) ExtendRun(ctx context.Context, r mailing.RunRef, limit int, now time.Time) (int, bool, error) {
	s.writes.Add(1)
	return s.Store.ExtendRun(ctx, r, limit, now)
}

func (s *countingStore) FinishDeliveries(ctx context.Context, owner string, results []mailing.Result) error {
	s.writes.Add(1)
	return s.Store.FinishDeliveries(ctx, owner, results)
}

// RunEngine measures the engine on the database at url ("sqlite:PATH" or
// "mysql:DSN", empty): it creates n clients of one owner, one message and
// one mailing due now, then times one RunDue pass, from the call (which
// opens the run: n ledger rows) until it returns with every message sent
// and recorded. It checks that the sink accepted n messages and that the
// ledger holds n sent deliveries and n attempts.
func RunEngine(ctx context.Context, cfg Config, name, url string, n int) (Result, error) {
	cfg.setDefaults()
	fail := func(err error) (Result, error) { return Result{}, fmt.Errorf("bench: %s n=%d: %w", name, n, err) }

	fmt.Fprintf(cfg.Log, "%-6s n=%d: creating %d clients, a message and a mailing\n", name, n, n)
	setup := time.Now()
	db, d, err := sqldb.OpenURL(ctx, url)
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	store := sqlstore.New(db, d)
	if err := store.Migrate(ctx); err != nil {
		return fail(err)
	}
	m, err := seed(ctx, store, cfg, n)
	if err != nil {
		return fail(err)
	}
	setupTime := time.Since(setup)

	t, err := newTarget(ctx, cfg)
	if err != nil {
		return Result{}, err
	}
	defer t.close()
	sm, err := newMailer(t, cfg)
	if err != nil {
		return Result{}, err
	}
	defer sm.Close()

	fmt.Fprintf(cfg.Log, "%-6s n=%d: sending (setup took %s)\n", name, n, setupTime.Round(time.Millisecond))
	p := &phase{}
	counted := &countingStore{Store: store}
	engine := mailing.NewEngine(counted, countingMailer{Mailer: sm, p: p}, nil, mailing.EngineConfig{
		Name: "bench", Workers: cfg.Workers, ClaimBatch: cfg.ClaimBatch,
		From: fromAddr, FromName: fromName, UnsubscribeURL: unsubscribeURL,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ps := startPhase(t)
	p.start, p.cpu, p.mem, p.target, p.sinkCPU = ps.start, ps.cpu, ps.mem, ps.target, ps.sinkCPU
	sum, err := engine.RunDue(ctx)
	r := p.end(name, n)
	r.SetupSeconds = setupTime.Seconds()
	if e := p.last.Load(); e != nil {
		r.MessageBytes = messageBytes(*e)
	}
	r.LedgerWrites = 100 * float64(counted.writes.Load()) / float64(n)
	if err != nil {
		return fail(err)
	}
	if sum.Runs != 1 || sum.Sent != n || sum.Failed+sum.Retried+sum.Unknown+sum.Deferred != 0 {
		return fail(fmt.Errorf("the pass did not send everything once: runs opened %d, %s", sum.Runs, sum))
	}
	if err := checkAccepted(t, n); err != nil {
		return fail(err)
	}
	if err := checkLedger(ctx, store, m.ID, n); err != nil {
		return fail(err)
	}
	return r, nil
}

// seed creates n clients of one owner (in chunks, each one transaction),
// a message and an enabled daily mailing to all of them, due now.
func seed(ctx context.Context, store mailing.Store, cfg Config, n int) (mailing.Mailing, error) {
	const owner, chunk = 1, 5000
	ids := make([]int64, 0, n)
	cs := make([]*mailing.Client, 0, chunk)
	for i := 0; i < n; i += chunk {
		cs = cs[:0]
		for j := i; j < min(i+chunk, n); j++ {
			r := recipient(j)
			cs = append(cs, &mailing.Client{OwnerID: owner, Email: r.Email, Name: r.Name})
		}
		if err := store.CreateClients(ctx, cs); err != nil {
			return mailing.Mailing{}, err
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
	}
	msg := &mailing.Message{OwnerID: owner, Subject: cfg.Subject, Body: cfg.Body}
	if err := msg.Validate(); err != nil {
		return mailing.Mailing{}, err
	}
	if err := store.CreateMessage(ctx, msg); err != nil {
		return mailing.Mailing{}, err
	}
	start := time.Now().UTC().Truncate(time.Second)
	m := &mailing.Mailing{
		OwnerID: owner, Name: "bench", MessageID: msg.ID, ClientIDs: ids,
		Start: start, End: start.Add(30 * 24 * time.Hour), Period: mailing.Daily,
		Enabled: true, NextRun: start,
	}
	if err := m.Validate(); err != nil {
		return mailing.Mailing{}, err
	}
	if err := store.CreateMailing(ctx, m); err != nil {
		return mailing.Mailing{}, err
	}
	m.ClientIDs = nil // a million ids are not needed any more
	return *m, nil
}

// checkLedger verifies that the mailing's one run has n deliveries, all
// sent, and that n attempts were recorded.
func checkLedger(ctx context.Context, store mailing.Store, mailingID int64, n int) error {
	runs, err := store.RunSummaries(ctx, mailingID)
	if err != nil {
		return err
	}
	if len(runs) != 1 {
		return fmt.Errorf("the ledger holds %d runs, want 1", len(runs))
	}
	if c := runs[0].Counts; c[mailing.DeliverySent] != n || len(c) != 1 {
		return fmt.Errorf("the run's deliveries by state are %v, want %d sent", c, n)
	}
	_, attempts, err := store.ListAttempts(ctx, mailing.AttemptFilter{MailingID: mailingID, ListOptions: mailing.ListOptions{Limit: 1}})
	if err != nil {
		return err
	}
	if attempts != n {
		return fmt.Errorf("the ledger recorded %d attempts, want %d", attempts, n)
	}
	return nil
}
