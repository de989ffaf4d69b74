package keyfile

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInlineOrFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.key")
	loose := filepath.Join(dir, "loose.key")
	if err := os.WriteFile(good, []byte("  s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(loose, []byte("s3cret"), 0o640); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, file, want, err string
	}{
		{"inline", "", "inline", ""},
		{"", "good.key", "s3cret", ""}, // relative to dir, trimmed
		{"", good, "s3cret", ""},
		{"", "loose.key", "", "mode 0640"},
		{"", "missing.key", "", "no such file"},
		{"inline", "good.key", "", "not both"},
		{"", "", "", "key or key_file is required"},
	}
	for _, tt := range tests {
		got, err := InlineOrFile(tt.key, tt.file, dir)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("InlineOrFile(%q, %q): %v, want error containing %q", tt.key, tt.file, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("InlineOrFile(%q, %q) = %q, %v; want %q", tt.key, tt.file, got, err, tt.want)
		}
	}
}

func TestRSAKeys(t *testing.T) {
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(key)
	spki, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	write := func(name, typ string, der []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, p := range []string{
		write("p1.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key), 0o600),
		write("p8.pem", "PRIVATE KEY", p8, 0o600),
	} {
		k, err := LoadRSAPrivate(p, 2048)
		if err != nil || !k.Equal(key) {
			t.Errorf("LoadRSAPrivate(%s): %v", p, err)
		}
	}
	if _, err := LoadRSAPrivate(write("open.pem", "PRIVATE KEY", p8, 0o644), 2048); err == nil || !strings.Contains(err.Error(), "mode 0644") {
		t.Errorf("a world-readable private key was accepted: %v", err)
	}
	if _, err := LoadRSAPrivate(filepath.Join(dir, "p8.pem"), 4096); err == nil || !strings.Contains(err.Error(), "2048 bits") {
		t.Errorf("a short key was accepted: %v", err)
	}
	for _, p := range []string{
		write("pub.pem", "PUBLIC KEY", spki, 0o644),
		write("pub1.pem", "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&key.PublicKey), 0o644),
	} {
		k, err := LoadRSAPublic(p, 2048)
		if err != nil || !k.Equal(&key.PublicKey) {
			t.Errorf("LoadRSAPublic(%s): %v", p, err)
		}
	}
	if _, err := ParseRSAPublic([]byte("not pem"), 2048); err == nil {
		t.Error("garbage parsed as a public key")
	}
	if _, err := ParseRSAPrivate(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1}}), 2048); err == nil {
		t.Error("an EC block parsed as an RSA key")
	}
}

func TestEnsurePairs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	pairs := []KeyPair{
		{filepath.Join(dir, "m.pem"), filepath.Join(dir, "m.pub")},
		{filepath.Join(dir, "p.pem"), filepath.Join(dir, "p.pub")},
	}
	if err := EnsurePairs(2048, pairs...); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(pairs[0].Private)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs {
		priv, err := LoadRSAPrivate(p.Private, 2048) // also checks mode 0600
		if err != nil {
			t.Fatal(err)
		}
		pub, err := LoadRSAPublic(p.Public, 2048)
		if err != nil || !pub.Equal(&priv.PublicKey) {
			t.Fatalf("%s does not hold the public half of %s: %v", p.Public, p.Private, err)
		}
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("key directory mode: %v %v", st.Mode(), err)
	}
	// A complete set is kept; a broken one is made anew.
	if err := EnsurePairs(2048, pairs...); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(pairs[0].Private)
	if string(again) != string(first) {
		t.Fatal("a complete key set was regenerated")
	}
	os.Remove(pairs[1].Public)
	if err := EnsurePairs(2048, pairs...); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRSAPublic(pairs[1].Public, 2048); err != nil {
		t.Fatalf("missing file not regenerated: %v", err)
	}
}
