package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/internal/app"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
	"github.com/skychimp/skychimp/mailing"
	mailingsql "github.com/skychimp/skychimp/mailing/sqlstore"
)

// SizeEnv sets the number of recipients of every scenario (default 3000,
// sized for CI; the closing notes quote 50,000).
const SizeEnv = "SKYCHIMP_CRASH_N"

const workers = 16

var bin string // the skychimp binary under test

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "skychimp-crash-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "skychimp")
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err == nil {
		build := exec.Command("go", "build", "-o", bin, "./cmd/skychimp")
		build.Dir = filepath.Dir(strings.TrimSpace(string(root)))
		build.Stderr = os.Stderr
		err = build.Run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashtest: build skychimp:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func size(tb testing.TB) int {
	if s := os.Getenv(SizeEnv); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(tb, err, SizeEnv)
		return n
	}
	return 3000
}

// world is one scenario's database, mailing and sink.
type world struct {
	t       *testing.T
	dir     string
	db      string // sqlite:PATH or mysql:DSN
	n       int
	mailing mailing.Mailing
	sink    *sink
	record  string
}

func newWorld(t *testing.T, d sqldb.Dialect) *world {
	w := &world{t: t, dir: t.TempDir(), n: size(t)}
	w.db = sqldbtest.URL(t, d)
	w.record = filepath.Join(w.dir, "received")
	w.seed()
	w.sink = startSink(t, "127.0.0.1:0", w.record)
	return w
}

// seed creates n clients of user 1 and a mailing due now.
func (w *world) seed() {
	ctx := context.Background()
	db, d, err := sqldb.OpenURL(ctx, w.db)
	require.NoError(w.t, err)
	defer db.Close()
	_, err = app.Migrate(ctx, db, d)
	require.NoError(w.t, err)
	svc := mailing.NewService(mailingsql.New(db, d), nil)
	me := accounts.WithUser(ctx, accounts.User{ID: 1, Role: accounts.RoleUser})
	cs := make([]mailing.Client, w.n)
	for i := range cs {
		cs[i] = mailing.Client{Email: fmt.Sprintf("c%d@example.com", i), Name: fmt.Sprint("Client ", i)}
	}
	created, err := svc.ImportClients(me, cs)
	require.NoError(w.t, err)
	ids := make([]int64, len(created))
	for i, c := range created {
		ids[i] = c.ID
	}
	msg, err := svc.CreateMessage(me, mailing.Message{Subject: "News for {{.Name}}", Body: "<p>Hello {{.Name}}, this is the news.</p>"})
	require.NoError(w.t, err)
	w.mailing, err = svc.CreateMailing(me, mailing.Mailing{MessageID: msg.ID, ClientIDs: ids,
		Start: time.Now().Add(-time.Minute), End: time.Now().Add(time.Hour), Period: mailing.Daily})
	require.NoError(w.t, err)
}

// send starts "skychimp send --mailing ID" with args.
func (w *world) send(args ...string) *proc {
	cmd := exec.Command(bin, append([]string{"send", "--mailing", fmt.Sprint(w.mailing.ID), "--json"}, args...)...)
	cmd.Env = append(os.Environ(),
		"SKYCHIMP_DB="+w.db,
		"SKYCHIMP_SMTP=smtp://"+w.sink.addr+"?timeout=5s&dial_timeout=1s",
		"SKYCHIMP_SECRET=crash-test-secret-0123456789",
		"SKYCHIMP_WORKERS="+strconv.Itoa(workers),
		"SKYCHIMP_HEARTBEAT=2s",
		"SKYCHIMP_RETRY_AFTER=1s",
	)
	p := &proc{cmd: cmd}
	cmd.Stdout, cmd.Stderr = &p.out, &p.errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(w.t, cmd.Start())
	w.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return p
}

type proc struct {
	cmd         *exec.Cmd
	out, errOut bytes.Buffer
	once        sync.Once
	code        int
}

// wait returns the exit code (-1 for a signal).
func (p *proc) wait(tb testing.TB, timeout time.Duration) int {
	p.once.Do(func() {
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case err := <-done:
			p.code = 0
			if ee, ok := err.(*exec.ExitError); ok {
				p.code = ee.ExitCode()
			}
		case <-time.After(timeout):
			_ = p.cmd.Process.Kill()
			<-done
			tb.Fatalf("send did not end within %s: %s %s", timeout, p.out.String(), p.errOut.String())
		}
	})
	return p.code
}

func (p *proc) kill(tb testing.TB) {
	require.NoError(tb, p.cmd.Process.Signal(syscall.SIGKILL))
	assert.Equal(tb, -1, p.wait(tb, 10*time.Second), "killed by SIGKILL")
}

// waitReceived waits until the sink has recorded at least n messages.
func (w *world) waitReceived(n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for received(w.t, w.record).total < n {
		require.True(w.t, time.Now().Before(deadline), "the sink received fewer than %d messages in %s", n, timeout)
		time.Sleep(10 * time.Millisecond)
	}
}

// counts is what the sink received.
type counts struct {
	total int
	per   map[string]int // recipient -> messages
}

func received(tb testing.TB, record string) counts {
	c := counts{per: map[string]int{}}
	f, err := os.Open(record)
	if os.IsNotExist(err) {
		return c
	}
	require.NoError(tb, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		c.total++
		c.per[strings.Trim(line, "<>")]++
	}
	return c
}

// report compares what the sink received with what the ledger says and
// checks the guarantees: nobody got a message twice, nobody was skipped
// silently (every client was received or is unknown), the ledger never
// claims a send the server did not get, and at most workers are
// unknown per engine that died.
func (w *world) report(name string, deaths int) (unknown int) {
	t := w.t
	ctx := context.Background()
	db, d, err := sqldb.OpenURL(ctx, w.db)
	require.NoError(t, err)
	defer db.Close()
	ds, _, err := mailingsql.New(db, d).ListDeliveries(ctx, mailing.DeliveryFilter{MailingID: w.mailing.ID})
	require.NoError(t, err)
	got := received(t, w.record)
	states := map[mailing.DeliveryState]int{}
	var dups, missing, lying, unknownReceived int
	for _, dl := range ds {
		states[dl.State]++
		n := got.per[dl.Email]
		if n > 1 {
			dups++
		}
		switch {
		case dl.State == mailing.DeliveryUnknown:
			if n > 0 {
				unknownReceived++
			}
		case n == 0:
			missing++ // neither received nor known to be ambiguous
		}
		if dl.State == mailing.DeliverySent && n == 0 {
			lying++
		}
	}
	t.Logf("%s: N=%d, deliveries %d, received %d messages to %d clients, duplicates %d, missing %d, ledger %v, unknown %d (%d of them received), sent-but-not-received %d",
		name, w.n, len(ds), got.total, len(got.per), dups, missing, states, states[mailing.DeliveryUnknown], unknownReceived, lying)
	assert.Equal(t, w.n, len(ds), "one delivery per client")
	assert.Zero(t, dups, "duplicates")
	assert.Zero(t, missing, "clients skipped silently")
	assert.Zero(t, lying, "the ledger says sent, the server never got it")
	assert.Equal(t, w.n, states[mailing.DeliverySent]+states[mailing.DeliveryUnknown], "every delivery is final: sent or unknown")
	assert.LessOrEqual(t, states[mailing.DeliveryUnknown], deaths*workers, "unknown is bounded by the sends in flight")
	return states[mailing.DeliveryUnknown]
}

func TestKillMidSendAndRestart(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqldb.Dialect) {
		w := newWorld(t, d)
		first := w.send()
		w.waitReceived(w.n*4/10, 2*time.Minute)
		first.kill(t)
		killedAt := received(t, w.record).total
		second := w.send("--wait")
		code := second.wait(t, 5*time.Minute)
		unknown := w.report(fmt.Sprintf("%s kill at %d received, restart exit %d", d, killedAt, code), 1)
		if unknown > 0 {
			assert.Equal(t, 1, code, "some deliveries are unknown: the restart says so")
			assert.Contains(t, second.out.String(), `"unknown"`)
		} else {
			assert.Equal(t, 0, code, second.errOut.String())
		}
	})
}

func TestTwoProcessesOneKilled(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqldb.Dialect) {
		w := newWorld(t, d)
		a := w.send("--wait")
		b := w.send("--wait")
		w.waitReceived(w.n*4/10, 2*time.Minute)
		a.kill(t)
		code := b.wait(t, 5*time.Minute)
		w.report(fmt.Sprintf("%s two processes, one killed, survivor exit %d", d, code), 1)
		assert.Contains(t, []int{0, 1}, code, b.errOut.String())
	})
}

func TestSMTPServerKilledAndFlapping(t *testing.T) {
	w := newWorld(t, sqldb.SQLite)
	p := w.send("--wait")
	for _, at := range []int{3, 6} {
		w.waitReceived(w.n*at/10, 2*time.Minute)
		w.sink.kill(t)
		time.Sleep(500 * time.Millisecond) // the server is down for a while
		w.sink = startSink(t, w.sink.addr, w.record)
	}
	code := p.wait(t, 5*time.Minute)
	w.report(fmt.Sprintf("sqlite sink killed twice, send exit %d", code), 2)
	assert.Contains(t, []int{0, 1}, code, p.errOut.String())
}

// sink is "skychimp bench sink" in a process of its own.
type sink struct {
	cmd  *exec.Cmd
	addr string
}

func startSink(tb testing.TB, addr, record string) *sink {
	var err error
	for try := 0; try < 50; try++ { // a port just freed may take a moment
		cmd := exec.Command(bin, "bench", "sink", "--addr", addr, "--record", record)
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		stdin, perr := cmd.StdinPipe()
		require.NoError(tb, perr)
		stdout, perr := cmd.StdoutPipe()
		require.NoError(tb, perr)
		require.NoError(tb, cmd.Start())
		line, rerr := bufio.NewReader(stdout).ReadString('\n')
		if rerr == nil {
			s := &sink{cmd: cmd, addr: strings.TrimSpace(line)}
			tb.Cleanup(func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
			return s
		}
		_ = cmd.Wait()
		err = rerr
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("start the sink on %s: %v", addr, err)
	return nil
}

func (s *sink) kill(tb testing.TB) {
	require.NoError(tb, s.cmd.Process.Signal(syscall.SIGKILL))
	_ = s.cmd.Wait()
}
