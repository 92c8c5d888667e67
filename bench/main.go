package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// errUsage marks an error in the command line.
var errUsage = errors.New("usage")

const usage = `usage: bench <mode> [flags]   (bench <mode> -h lists a mode's flags)

modes:
  listen   many MP3 listeners: failures, head time, TTFB, burst, lead, stalls, sync
  control  keep-alive load on /create_stream or /set_param: requests/s, latency
  latency  time from a parameter change to the changed audio at a real-time listener
  restart  time from exec to serving over N stored streams, and disk per stream
  pcm      write the encoder test signal: seconds of 44.1 kHz stereo s16le from render
  encode   an MP3 encoder's CPU over a PCM file: synthcast's, or a command after --
  plotdata the plots' data files from the JSON lines of make bench and make bench-peers

Every target must be on 127.0.0.0/8 (restart runs its own server there); pcm, encode and plotdata use no network. The last line on stdout is one JSON object.
`

// run runs one mode. stdout receives the final JSON line only; stderr the
// progress line and the human summary.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no mode given", errUsage)
	}
	mode, args := args[0], args[1:]
	switch mode {
	case "listen":
		return runListen(ctx, args, stdout, stderr)
	case "control":
		return runControl(ctx, args, stdout, stderr)
	case "latency":
		return runLatency(ctx, args, stdout, stderr)
	case "restart":
		return runRestart(ctx, args, stdout, stderr)
	case "pcm":
		return runPCM(ctx, args, stdout, stderr)
	case "encode":
		return runEncode(ctx, args, stdout, stderr)
	case "plotdata":
		return runPlotData(ctx, args, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown mode %q", errUsage, mode)
}

// newFlagSet returns a flag set for a mode that reports errors to stderr
// and returns them rather than exiting.
func newFlagSet(mode string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bench "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args into fs, wrapping errors as usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parsePids parses -pid and -pids into one list.
func parsePids(pid int, pids string) ([]int, error) {
	var out []int
	if pid > 0 {
		out = append(out, pid)
	}
	for _, f := range splitList(pids) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%w: bad pid %q", errUsage, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// endpoint is a loopback HTTP URL split for a raw TCP client.
type endpoint struct {
	addr string // host:port to dial, an IPv4 address in 127.0.0.0/8
	host string // Host header
	path string // request-target: path and query
}

// parseEndpoint accepts http://HOST[:PORT][/path][?query] with HOST in
// 127.0.0.0/8 or "localhost" (taken as 127.0.0.1): the load this command
// makes is for the loopback interface only.
func parseEndpoint(raw string) (endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, fmt.Errorf("%w: %w", errUsage, err)
	}
	if u.Scheme != "http" {
		return endpoint{}, fmt.Errorf("%w: %q: only http:// URLs", errUsage, raw)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host).To4()
	if ip == nil || ip[0] != 127 {
		return endpoint{}, fmt.Errorf("%w: %q: the target must be an address in 127.0.0.0/8", errUsage, raw)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return endpoint{addr: net.JoinHostPort(host, port), host: u.Host, path: path}, nil
}

// baseURL validates a synthcast base URL (-url) and returns it without a
// trailing slash.
func baseURL(raw string) (string, error) {
	if _, err := parseEndpoint(raw); err != nil {
		return "", err
	}
	return strings.TrimRight(raw, "/"), nil
}

// setupClient makes the few control requests a run needs before its load
// (creating streams, switching a latency target). Loopback only, bounded.
var setupClient = &http.Client{
	Timeout: 10 * time.Second,
	Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConnsPerHost: 16,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if _, err := parseEndpoint("http://" + addr); err != nil {
				return nil, err
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	},
}

// getOK issues GET u and returns the body of a 2xx answer, or an error
// quoting the status and (the start of) the body.
func getOK(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := setupClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("GET %s: %s: %.200s", u, resp.Status, body)
	}
	return body, nil
}

// createStreams creates n synthcast streams with the given query parameters
// ("k=v&k2=v2", may be empty) and returns their tokens.
func createStreams(ctx context.Context, base, params string, n int) ([]string, error) {
	u := base + "/create_stream"
	if params != "" {
		u += "?" + params
	}
	ids := make([]string, 0, n)
	for range n {
		body, err := getOK(ctx, u)
		if err != nil {
			return ids, err
		}
		var r struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.ID == "" {
			return ids, fmt.Errorf("create_stream: unexpected answer %.200q", body)
		}
		ids = append(ids, r.ID)
	}
	return ids, nil
}

// isTerminal reports whether f is a character device (a terminal), where a
// live progress line makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// writeJSON writes v as one line.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// round3 rounds to 3 decimals for readable JSON.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
