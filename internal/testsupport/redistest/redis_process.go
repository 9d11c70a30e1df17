package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// redisReadyTimeout bounds the wait for a started server to answer PING.
	redisReadyTimeout = 10 * time.Second
	// redisStopTimeout bounds the wait for a SIGTERMed server to save and
	// exit before it is killed.
	redisStopTimeout = 10 * time.Second
	// redisLogTail is how much of the end of the server's log goes into
	// errors.
	redisLogTail = 2048

	redisLogFile    = "redis.log"    // the server's own log
	redisOutputFile = "redis.output" // its stdout and stderr, for early failures
)

// errAddrInUse marks a launch that failed because the port was taken.
var errAddrInUse = errors.New("address already in use")

// redisProc is one run of redis-server.
type redisProc struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error         // cmd.Wait's result, set before exited closes
}

// launch starts redis-server on r.port in r.dir and waits until it answers
// PING. The caller holds r.mu (or owns r exclusively).
func (r *Redis) launch() (*redisProc, error) {
	return startRedisProc(r.bin, r.dir, r.Addr,
		"--port", strconv.Itoa(r.port),
		"--bind", "127.0.0.1",
		"--protected-mode", "no",
		"--daemonize", "no",
		"--dir", r.dir,
		"--dbfilename", "dump.rdb",
		"--save", "3600 1",
		"--appendonly", "no",
		"--logfile", filepath.Join(r.dir, redisLogFile),
	)
}

// startRedisProc starts redis-server (bin) with args in dir, its output in
// dir's output file, and waits until it answers PING at addr.
func startRedisProc(bin, dir, addr string, args ...string) (*redisProc, error) {
	out, err := os.OpenFile(filepath.Join(dir, redisOutputFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("redistest: redis output file: %w", err)
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = redisSysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redistest: start redis-server: %w", err)
	}
	p := &redisProc{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if err := p.waitReady(addr); err != nil {
		_ = p.kill()
		tail := logTail(dir)
		if strings.Contains(tail, "Address already in use") {
			err = fmt.Errorf("%w: %w", errAddrInUse, err)
		}
		return nil, fmt.Errorf("redistest: redis-server on %s: %w\n%s", addr, err, tail)
	}
	return p, nil
}

// waitReady polls addr until the process answers PING with PONG, the
// process exits or redisReadyTimeout passes.
func (p *redisProc) waitReady(addr string) error {
	deadline := time.Now().Add(redisReadyTimeout)
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("exited before answering PING: %v", p.waitErr)
		default:
		}
		err := ping(addr, p.cmd.Process.Pid)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG after %v: %w", redisReadyTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ping sends PING and INFO over a fresh connection and checks that the
// server answers PONG and, unless pid is 0, that it is process pid (and not
// another server that took the port). It does not use go-redis, whose pool
// backs off after the refused dials of a starting server.
func ping(addr string, pid int) error {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := io.WriteString(c, "PING\r\nINFO server\r\n"); err != nil {
		return err
	}
	rd := bufio.NewReader(c)
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	if line = strings.TrimSpace(line); line != "+PONG" {
		// -LOADING while it reads its dataset, for example.
		return fmt.Errorf("PING answered %q", line)
	}
	if pid == 0 {
		return nil
	}
	info, err := readBulk(rd)
	if err != nil {
		return fmt.Errorf("INFO: %w", err)
	}
	if !strings.Contains(info, "\nprocess_id:"+strconv.Itoa(pid)+"\r\n") {
		return fmt.Errorf("%s is served by another process", addr)
	}
	return nil
}

// readBulk reads one RESP bulk string reply.
func readBulk(rd *bufio.Reader) (string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "$") {
		return "", fmt.Errorf("answered %q", line)
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 {
		return "", fmt.Errorf("answered %q", line)
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(rd, buf); err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// stop sends SIGTERM and waits for the process to save and exit, killing it
// after redisStopTimeout.
func (p *redisProc) stop(dir string) error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("redistest: redis stop: %w", err)
	}
	select {
	case <-p.exited:
		if p.waitErr != nil {
			return fmt.Errorf("redistest: redis stop: %w\n%s", p.waitErr, logTail(dir))
		}
		return nil
	case <-time.After(redisStopTimeout):
		_ = p.kill()
		return fmt.Errorf("redistest: redis stop: still running %v after SIGTERM, killed\n%s", redisStopTimeout, logTail(dir))
	}
}

// kill sends SIGKILL and waits for the process to exit.
func (p *redisProc) kill() error {
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("redistest: redis kill: %w", err)
	}
	<-p.exited
	return nil
}

// logTail returns the last redisLogTail bytes of the server's log and
// output in dir, labelled, for error messages.
func logTail(dir string) string {
	var b strings.Builder
	for _, name := range []string{redisLogFile, redisOutputFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		if len(data) > redisLogTail {
			data = data[len(data)-redisLogTail:]
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				data = data[i+1:]
			}
		}
		fmt.Fprintf(&b, "--- %s (tail) ---\n%s", name, data)
		if !bytes.HasSuffix(data, []byte("\n")) {
			b.WriteByte('\n')
		}
	}
	if b.Len() == 0 {
		return "(redis-server wrote no log)"
	}
	return strings.TrimSuffix(b.String(), "\n")
}
