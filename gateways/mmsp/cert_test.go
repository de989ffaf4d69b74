package mmsp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// TestMerchantCertificate: §3.1 证书要求 (M8). With client_cert_file and
// client_key_file the merchant certificate is presented to an endpoint
// that demands one; without them the endpoint refuses the connection.
func TestMerchantCertificate(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "001440353999853"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "m.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(dir, "m.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	os.WriteFile(filepath.Join(dir, "loose.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o644)
	os.Chmod(filepath.Join(dir, "loose.key"), 0o644)

	var presented string
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) > 0 {
			presented = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		_, _ = w.Write(answerWith(35079, map[string]string{"STATUS": "1", "MERORDERID": "A1"}, testKey, nil)(nil))
	}))
	ts.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	trust := func() *http.Client { return &http.Client{Transport: ts.Client().Transport.(*http.Transport).Clone()} }

	o := testOptions(ts.URL)
	o.ClientCertFile, o.ClientKeyFile = "m.crt", "m.key"
	c, err := New(o, gateways.Env{HTTPClient: trust(), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Reverse(context.Background(), gateways.OrderRef{OutTradeNo: "A1"})
	if err != nil || res.Status != gateways.StatusSucceeded || presented != "001440353999853" {
		t.Fatalf("with the certificate: %s %v, presented %q", res.Status, err, presented)
	}
	o.ClientCertFile, o.ClientKeyFile = "", ""
	c, err = New(o, gateways.Env{HTTPClient: trust(), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reverse(context.Background(), gateways.OrderRef{OutTradeNo: "A1"}); err == nil {
		t.Fatal("an endpoint that demands a certificate answered a client without one")
	}
	o.ClientCertFile, o.ClientKeyFile = "m.crt", "loose.key"
	if _, err := New(o, gateways.Env{Dir: dir}); !pos.Match(pos.Invalid, err) {
		t.Fatalf("a group/world-readable certificate key: %v, want Invalid", err)
	}
}
