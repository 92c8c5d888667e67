package main

import (
	"bufio"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	type answer struct {
		status     int
		closeAfter bool
		ok         bool
	}
	tests := []struct {
		name string
		in   string
		want []answer
	}{
		{
			name: "pipelined keep-alive answers",
			in: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}" +
				"HTTP/1.1 400 Bad Request\r\ncontent-length: 13\r\n\r\n{\"error\":\"x\"}" +
				"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
			want: []answer{{200, false, true}, {400, false, true}, {200, false, true}},
		},
		{
			name: "close",
			in:   "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc",
			want: []answer{{503, true, true}},
		},
		{
			name: "HTTP/1.0 closes unless kept alive",
			in:   "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\ny",
			want: []answer{{200, true, true}, {200, false, true}},
		},
		{
			name: "no Content-Length",
			in:   "HTTP/1.1 200 OK\r\n\r\nabc",
			want: []answer{{200, false, false}},
		},
		{
			name: "truncated body",
			in:   "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
			want: []answer{{200, false, false}},
		},
		{
			name: "not HTTP",
			in:   "SSH-2.0-OpenSSH\r\n",
			want: []answer{{0, false, false}},
		},
	}
	for _, tt := range tests {
		br := bufio.NewReader(strings.NewReader(tt.in))
		for i, w := range tt.want {
			status, closeAfter, err := readResponse(br)
			if status != w.status || closeAfter != w.closeAfter || (err == nil) != w.ok {
				t.Errorf("%s: answer %d = %d, %v, %v; want %d, %v, ok %v", tt.name, i, status, closeAfter, err, w.status, w.closeAfter, w.ok)
			}
		}
	}
}
