package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestIdleConnectionsAreClosed: the server used to set only
// ReadHeaderTimeout, so idle keep-alive connections stayed open for good
// (3,000 of them kept 3,015 goroutines). NewHTTPServer bounds idle time and
// header size; a real server with its settings, the idle timeout made
// short, closes connections that stay idle after a request.
func TestIdleConnectionsAreClosed(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	srv := NewHTTPServer(h)
	if srv.IdleTimeout <= 0 || srv.IdleTimeout > 5*time.Minute {
		t.Errorf("IdleTimeout %s, want a bound of a few minutes at most", srv.IdleTimeout)
	}
	if srv.ReadHeaderTimeout <= 0 || srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
		t.Errorf("ReadHeaderTimeout %s, MaxHeaderBytes %d: want both bounded", srv.ReadHeaderTimeout, srv.MaxHeaderBytes)
	}

	srv.IdleTimeout = 100 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	const conns = 20
	open := make([]net.Conn, conns)
	for i := range open {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 || resp.Close {
			t.Fatalf("request %d: %v %v (a keep-alive answer is wanted)", i, resp, err)
		}
		resp.Body.Close()
		open[i] = c
	}
	// Each connection now idles: the server must close it (read gets EOF).
	// The read deadline only keeps a broken server from hanging the test.
	for i, c := range open {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("idle connection %d: read %v, want EOF (closed by the server)", i, err)
		}
	}

	// A request with headers past MaxHeaderBytes is refused.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 2*srv.MaxHeaderBytes)+"\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("huge headers: %v %v, want 431", resp, err)
	}
}
