package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ChromiumNames are the browser binaries FindChromium looks for on PATH,
// in order.
var ChromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// FindChromium returns the path of the first of ChromiumNames on PATH.
func FindChromium() (string, bool) {
	for _, name := range ChromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// Build compiles the module's ./cmd/skychimp into dir (the way a person
// does on a checkout, without the test's flags such as -race) and returns
// the binary's path.
func Build(tb testing.TB, dir string) string {
	tb.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(tb, err, "go env GOMOD")
	mod := strings.TrimSpace(string(gomod))
	require.True(tb, mod != "" && mod != os.DevNull, "the test does not run inside a Go module (go env GOMOD = %q)", mod)
	bin := filepath.Join(dir, "skychimp")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/skychimp")
	cmd.Dir = filepath.Dir(mod)
	out, err := cmd.CombinedOutput()
	require.NoError(tb, err, "go build ./cmd/skychimp:\n%s", out)
	return bin
}

// Login is one account `serve --demo` printed.
type Login struct {
	Email string
	Role  string // the role's label, e.g. "Content manager"
}

// Server is a skychimp binary running `serve --demo` in its own working
// directory (so its SQLite database, outbox, secret and media are fresh).
type Server struct {
	// URL is the printed address, e.g. "http://127.0.0.1:41234".
	URL string
	// Dir is the server's working directory.
	Dir string
	// Password is the printed password of the demo accounts.
	Password string
	// Logins are the printed demo accounts, in printed order.
	Logins []Login

	cmd     *exec.Cmd
	out     *Lines
	errs    *Lines
	done    chan struct{}
	waitErr error
}

var (
	listeningRE = regexp.MustCompile(`is listening on (http://\S+)`)
	loginRE     = regexp.MustCompile(`^\s+(\S+@\S+)\s+(\S.*?)\s*$`)
	passwordRE  = regexp.MustCompile(`^\s+password for all:\s+(\S+)\s*$`)
)

// StartDemo runs `bin serve --demo --addr 127.0.0.1:0` in dir with
// SKYCHIMP_DEMO_PASSWORD set to password and no other SKYCHIMP_ variable
// from the test's environment. It returns once the printed address
// answers, with the printed logins parsed. The process is killed at the
// end of the test unless Stop ended it.
func StartDemo(tb testing.TB, bin, dir, password string) *Server {
	tb.Helper()
	s := &Server{Dir: dir, out: newLines(), errs: newLines(), done: make(chan struct{})}
	cmd := exec.Command(bin, "serve", "--demo", "--addr", "127.0.0.1:0")
	cmd.Dir = dir
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "SKYCHIMP_") })
	cmd.Env = append(env, "SKYCHIMP_DEMO_PASSWORD="+password)
	cmd.Stdout = &lineWriter{l: s.out}
	cmd.Stderr = &lineWriter{l: s.errs}
	dieWithParent(cmd)
	require.NoError(tb, cmd.Start(), "start %s serve --demo", bin)
	s.cmd = cmd
	go func() {
		s.waitErr = cmd.Wait()
		s.out.close()
		s.errs.close()
		close(s.done)
	}()
	tb.Cleanup(s.kill)

	line, ok := s.out.Wait(60*time.Second, "is listening on")
	require.True(tb, ok, "serve --demo printed no address.\nstdout:\n%s\nstderr:\n%s", s.out, s.errs)
	m := listeningRE.FindStringSubmatch(line)
	require.NotNil(tb, m, "cannot read the address in %q", line)
	s.URL = m[1]
	for _, l := range s.out.Lines() {
		if m := passwordRE.FindStringSubmatch(l); m != nil {
			s.Password = m[1]
		} else if m := loginRE.FindStringSubmatch(l); m != nil {
			s.Logins = append(s.Logins, Login{Email: m[1], Role: m[2]})
		}
	}
	s.waitAnswering(tb, 30*time.Second)
	return s
}

// waitAnswering polls the login page until it answers 200.
func (s *Server) waitAnswering(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/admin/login", nil)
		require.NoError(tb, err)
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = errors.New(resp.Status)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("%s/admin/login did not answer 200 within %s: %v\nstderr:\n%s", s.URL, timeout, last, s.errs)
		case <-s.done:
			tb.Fatalf("the server exited (%v) before it answered.\nstdout:\n%s\nstderr:\n%s", s.waitErr, s.out, s.errs)
		case <-tick.C:
		}
	}
}

// Stdout and Stderr are what the server printed so far.
func (s *Server) Stdout() *Lines { return s.out }

// Stderr is what the server logged so far (see Stdout).
func (s *Server) Stderr() *Lines { return s.errs }

// Outbox returns the names of the .eml files in the server's outbox
// directory.
func (s *Server) Outbox(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(s.Dir, "outbox", "*.eml"))
	require.NoError(tb, err)
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

// Stop sends SIGTERM to the server (graceful shutdown) and waits for it
// to exit. It returns the exit code; the test fails if the process does
// not exit within timeout (it is then killed).
func (s *Server) Stop(tb testing.TB, timeout time.Duration) int {
	tb.Helper()
	select {
	case <-s.done:
		tb.Fatalf("the server had already exited: %v", s.waitErr)
	default:
	}
	require.NoError(tb, s.cmd.Process.Signal(syscall.SIGTERM), "SIGTERM to pid %d", s.cmd.Process.Pid)
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.kill()
		tb.Fatalf("the server (pid %d) did not exit within %s of SIGTERM; killed.\nstdout:\n%s", s.cmd.Process.Pid, timeout, s.out)
	}
	return s.cmd.ProcessState.ExitCode()
}

// kill ends the server's process, if it still runs, and waits for it.
func (s *Server) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Lines collects a process's output line by line; safe for concurrent use.
type Lines struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced on each new line and at the end
	ended   bool
}

func newLines() *Lines { return &Lines{changed: make(chan struct{})} }

func (l *Lines) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *Lines) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ended {
		l.ended = true
		close(l.changed)
	}
}

// Lines returns a copy of the lines so far.
func (l *Lines) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// String returns the lines so far, joined by newlines.
func (l *Lines) String() string { return strings.Join(l.Lines(), "\n") }

// Wait returns the first line that contains substr, waiting up to timeout
// for it; ok is false when the output ended or the time ran out first.
func (l *Lines) Wait(timeout time.Duration, substr string) (line string, ok bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		l.mu.Lock()
		for ; seen < len(l.lines); seen++ {
			if strings.Contains(l.lines[seen], substr) {
				line := l.lines[seen]
				l.mu.Unlock()
				return line, true
			}
		}
		changed, ended := l.changed, l.ended
		l.mu.Unlock()
		if ended {
			return "", false
		}
		select {
		case <-changed:
		case <-deadline.C:
			return "", false
		}
	}
}

// lineWriter splits what a process writes into Lines.
type lineWriter struct {
	l       *Lines
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := slices.Index(w.partial, '\n')
		if i < 0 {
			break
		}
		w.l.add(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}
