package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// The network of TestReachability, all on 127.0.0.1: a test CA, HTTPS
// servers with certificates of that CA for the fake company's domains, and
// a CONNECT proxy that stands in for DNS. blackbox_exporter's module (the
// shipped one, plus proxy_url, skip_resolve_phase_with_proxy and ca_file)
// asks the proxy for "www.example-site.example:443"; the proxy connects it
// to the loopback server of that domain, or answers 502 for any other name.
// Target URLs, TLS server names and certificate checks are production's.

// testCA signs the servers' certificates; blackbox trusts it through
// tls_config.ca_file.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kinsta_exporter e2e CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf is a server certificate for domain, valid until notAfter.
func (ca *testCA) leaf(t *testing.T, domain string, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: domain}, DNSNames: []string{domain},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// siteServer starts an HTTPS server on 127.0.0.1 for domain that answers
// every request with status; stopped closes it at once, so that its port
// refuses connections.
func siteServer(t *testing.T, ca *testCA, domain string, notAfter time.Time, status int, stopped bool) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "<html><body>"+domain+"</body></html>\n")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, domain, notAfter)}}
	srv.StartTLS()
	addr := srv.Listener.Addr().String()
	if stopped {
		srv.Close()
	} else {
		t.Cleanup(srv.Close)
	}
	return addr
}

// connectProxy is the test's stand-in for DNS: CONNECT <domain>:443 reaches
// the loopback server of that domain; any other name gets 502. It records
// the names asked for.
type connectProxy struct {
	routes map[string]string // "www.x.example:443" -> "127.0.0.1:port"
	mu     sync.Mutex
	asked  map[string]int
}

func startConnectProxy(t *testing.T, routes map[string]string) (*connectProxy, string) {
	t.Helper()
	p := &connectProxy{routes: routes, asked: map[string]int{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.Listener.Addr().String()
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	p.asked[r.Host]++
	p.mu.Unlock()
	backend, ok := p.routes[r.Host]
	if !ok {
		http.Error(w, "no such test domain", http.StatusBadGateway)
		return
	}
	upstream, err := net.DialTimeout("tcp", backend, 2*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer upstream.Close()
	client, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer client.Close()
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	go func() {
		_, _ = io.Copy(upstream, buf) // what the client sent after CONNECT, then the rest
		_ = upstream.(*net.TCPConn).CloseWrite()
	}()
	_, _ = io.Copy(client, upstream)
}

// hosts returns the names asked for, with counts.
func (p *connectProxy) hosts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.asked))
	for k, v := range p.asked {
		out[k] = v
	}
	return out
}
