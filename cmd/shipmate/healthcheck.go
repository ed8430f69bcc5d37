package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// cmdHealthcheck asks the /readyz of a serve running on HTTP_ADDR (or
// --url) and fails unless it answers 200. It is the probe for images
// without a shell or curl: an exec-form ECS container health check, or a
// Kubernetes exec probe.
func cmdHealthcheck(ctx context.Context, e env) error {
	fs := e.flags()
	url := fs.String("url", "", "readiness URL to ask (default: /readyz on HTTP_ADDR)")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for an answer")
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return e.usageErr(fs, "healthcheck takes no arguments")
	}
	if *url == "" {
		getenv, err := withDotEnv(e.getenv, ".env")
		if err != nil {
			return err
		}
		u, err := readyURL(getenv("HTTP_ADDR"))
		if err != nil {
			return err
		}
		*url = u
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", *url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintln(e.stdout, strings.TrimSpace(string(body)))
	return nil
}

// readyURL is the /readyz URL of a server listening on addr, asked on
// loopback when addr names all interfaces (":8080", "0.0.0.0:8080").
func readyURL(addr string) (string, error) {
	if addr == "" {
		return "", fmt.Errorf("HTTP_ADDR is empty, so serve has no health endpoints: set it (the image sets :8080) or pass --url")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("HTTP_ADDR %q: %w", addr, err)
	}
	if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
