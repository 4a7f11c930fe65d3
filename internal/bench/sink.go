package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skychimp/skychimp/internal/smtptest"
	"github.com/skychimp/skychimp/mailing/smtpmailer"
)

// ServeSink runs the SMTP sink of a bench run in a process of its own, so
// that its CPU is not counted as the sender's: it listens on addr
// (127.0.0.1:0 when empty), writes its address as one line to out, answers
// every "count" line read from in with the number of messages it has
// accepted, and returns when in ends. With record set it appends a line
// per accepted message to that file, with the message's recipients, so
// that what a server received can be counted after the sink (or the
// sender) was killed.
func ServeSink(addr, record string, in io.Reader, out io.Writer) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	opts := smtptest.Options{Addr: addr, Sink: true, Domain: "sink.local"}
	if record != "" {
		f, err := os.OpenFile(record, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("bench: sink record: %w", err)
		}
		defer f.Close()
		var mu sync.Mutex
		opts.OnAccept = func(_ string, to []string) {
			mu.Lock()
			defer mu.Unlock()
			_, _ = f.WriteString(strings.Join(to, " ") + "\n")
		}
	}
	srv, err := smtptest.New(opts)
	if err != nil {
		return fmt.Errorf("bench: start SMTP sink: %w", err)
	}
	defer srv.Close()
	if _, err := fmt.Fprintln(out, srv.Addr()); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		switch strings.TrimSpace(sc.Text()) {
		case "count":
			if _, err := fmt.Fprintln(out, srv.Accepted()); err != nil {
				return err
			}
		case "":
		default:
			if _, err := fmt.Fprintln(out, "unknown command"); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}

// target is the SMTP server a case sends to.
type target struct {
	host string
	port int
	tls  smtpmailer.Config // only TLS and credentials are used (external servers)

	// accepted returns the messages the server has accepted so far
	// (-1: the server does not tell).
	accepted func() (int64, error)
	// cpu returns the server's CPU time so far (0: not measured).
	cpu   func() time.Duration
	close func() error
}

// newTarget starts the server a case sends to: cfg.SMTP when set, else
// the sink in a child process (cfg.SinkCommand), else an in-process sink.
func newTarget(ctx context.Context, cfg Config) (*target, error) {
	switch {
	case cfg.SMTP != "":
		c, err := smtpmailer.ParseURL(cfg.SMTP)
		if err != nil {
			return nil, fmt.Errorf("bench: --smtp: %w", err)
		}
		return &target{
			host: c.Host, port: c.Port, tls: c,
			accepted: func() (int64, error) { return -1, nil },
			cpu:      func() time.Duration { return 0 },
			close:    func() error { return nil },
		}, nil
	case len(cfg.SinkCommand) > 0:
		return startSinkProcess(ctx, cfg.SinkCommand)
	}
	srv, err := newSink()
	if err != nil {
		return nil, err
	}
	return &target{
		host: srv.Host(), port: srv.Port(),
		accepted: func() (int64, error) { return srv.Accepted(), nil },
		cpu:      func() time.Duration { return 0 }, // shares the process's CPU
		close:    srv.Close,
	}, nil
}

// sinkProcess is ServeSink running in a child process.
type sinkProcess struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	mu    sync.Mutex
	waitc chan error
}

func startSinkProcess(ctx context.Context, command []string) (*target, error) {
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: SMTP sink: %w", err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: SMTP sink: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start the SMTP sink process: %w", err)
	}
	p := &sinkProcess{cmd: cmd, in: in, out: bufio.NewReader(outPipe), waitc: make(chan error, 1)}
	addrc := make(chan string, 1)
	go func() {
		line, _ := p.out.ReadString('\n')
		addrc <- strings.TrimSpace(line)
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(30 * time.Second):
	}
	host, portText, ok := strings.Cut(addr, ":")
	port, perr := strconv.Atoi(portText)
	if !ok || perr != nil {
		_ = in.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("bench: the SMTP sink process did not say where it listens (got %q)", addr)
	}
	go func() { p.waitc <- cmd.Wait() }()
	return &target{
		host: host, port: port,
		accepted: p.count,
		cpu:      func() time.Duration { return processCPU(cmd.Process.Pid) },
		close:    p.close,
	}, nil
}

func (p *sinkProcess) count() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.in, "count\n"); err != nil {
		return 0, fmt.Errorf("bench: SMTP sink: %w", err)
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("bench: SMTP sink: %w", err)
	}
	return strconv.ParseInt(strings.TrimSpace(line), 10, 64)
}

func (p *sinkProcess) close() error {
	_ = p.in.Close()
	select {
	case err := <-p.waitc:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("bench: the SMTP sink process: %w", err)
		}
		return nil
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		return errors.New("bench: the SMTP sink process did not stop")
	}
}
