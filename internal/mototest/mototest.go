// Package mototest starts moto_server, the AWS emulator, for the commands' tests: on a free
// loopback port, stopped (with its process group) when the test ends. Without moto_server a
// test skips on a laptop and fails in CI (CI=true), where it must run.
package mototest

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Credentials are the fixed ones moto accepts.
var Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}, nil
})

// Start runs moto_server and returns its URL; what names the test that needs it.
func Start(t *testing.T, what string) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(what + " needs moto_server on the PATH (pip install 'moto[server]'); in CI it must run")
		}
		t.Skip("moto_server not on the PATH (pip install 'moto[server]'); CI=true makes this a failure")
	}
	for attempt := range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		_ = l.Close()
		var log bytes.Buffer
		cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
		cmd.Stdout, cmd.Stderr = &log, &log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start moto_server: %v", err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		stop := func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		}
		url := "http://127.0.0.1:" + port
		if up(url, done, 30*time.Second) {
			t.Cleanup(stop)
			return url
		}
		stop()
		t.Logf("moto_server on port %s did not answer (attempt %d):\n%s", port, attempt+1, log.String())
	}
	t.Fatal("moto_server did not start")
	return ""
}

// up waits until the server answers, it exits, or the bound passes.
func up(url string, exited <-chan struct{}, bound time.Duration) bool {
	client := http.Client{Timeout: time.Second}
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if resp, err := client.Get(url + "/moto-api/data.json"); err == nil {
			_ = resp.Body.Close()
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}
