package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestShippedExamplesPassOnceTheirFilesExist: the examples in configs/
// name files an integrator puts on each till (the acquirer's keys under
// /etc/posagent, the state directory under /var/lib/posagent), so on a
// machine without them `config check` refuses them, and then the only
// problems it names are those files, each with what to do. With the files
// there (the paths moved into a temporary directory, the keys made up),
// every example passes.
func TestShippedExamplesPassOnceTheirFilesExist(t *testing.T) {
	files, _ := filepath.Glob("../../configs/examples/*.yaml")
	files = append(files, "../../configs/posagent.example.yaml")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	pub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv})
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	named := regexp.MustCompile(`/etc/posagent/[\w.-]+`)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			text := strings.ReplaceAll(string(b), "/etc/posagent/", dir+"/etc/")
			text = strings.ReplaceAll(text, "/var/lib/posagent", dir+"/state")
			path := filepath.Join(dir, "posagent.yaml")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = checkConfigFile(path, &out)
			if err == nil {
				t.Fatalf("passed without its key files: %s", out.String())
			}
			for _, line := range strings.Split(err.Error(), "\n")[1:] {
				if !strings.Contains(line, dir) || !strings.Contains(line, "does not exist") {
					t.Errorf("a problem that is not a missing file: %s", line)
				}
				if strings.Contains(line, "_file:") && !strings.Contains(line, "put the file there") {
					t.Errorf("a missing key file without what to do: %s", line)
				}
			}

			// Put the files there.
			if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
				t.Fatal(err)
			}
			for _, name := range named.FindAllString(string(b), -1) {
				content := []byte("0123456789abcdef0123456789abcdef\n")
				switch {
				case strings.Contains(name, "platform") && strings.HasSuffix(name, ".pem"):
					content = pubPEM
				case strings.HasSuffix(name, ".pem"):
					content = privPEM
				}
				if err := os.WriteFile(filepath.Join(dir, "etc", filepath.Base(name)), content, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			out.Reset()
			if err := checkConfigFile(path, &out); err != nil {
				t.Fatalf("with its files there: %v", err)
			}
			if !strings.Contains(out.String(), "is valid") {
				t.Errorf("config check said %q", out.String())
			}
		})
	}
}
