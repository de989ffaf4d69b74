package configs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posagent/posagent/configs"
)

const credentialConfig = `
gateways:
  - name: g
    kind: mmsp
    options:
      merchant_no: "001440353999853"
      key_file: credential:mmsp-key
      certs: [plain.pem, "credential:client-cert"]
`

func TestCredentialResolvesToSystemdsDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CREDENTIALS_DIRECTORY", dir)
	c, err := configs.Parse([]byte(credentialConfig))
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		MerchantNo string   `yaml:"merchant_no"`
		KeyFile    string   `yaml:"key_file"`
		Certs      []string `yaml:"certs"`
	}
	if err := c.Gateways[0].Decode(&o); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "mmsp-key"); o.KeyFile != want {
		t.Errorf("key_file = %q, want %q", o.KeyFile, want)
	}
	if want := filepath.Join(dir, "client-cert"); len(o.Certs) != 2 || o.Certs[0] != "plain.pem" || o.Certs[1] != want {
		t.Errorf("certs = %q, want [plain.pem %s]", o.Certs, want)
	}
	if o.MerchantNo != "001440353999853" {
		t.Errorf("other values changed: merchant_no = %q", o.MerchantNo)
	}
}

func TestCredentialRefusedWithoutSystemd(t *testing.T) {
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	_, err := configs.Parse([]byte(credentialConfig))
	if err == nil {
		t.Fatal("a credential was accepted without $CREDENTIALS_DIRECTORY")
	}
	for _, want := range []string{"gateways[0].options.key_file", "line 7", "LoadCredential=mmsp-key:", "gateways[0].options.certs[1]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestCredentialNameMustBePlain(t *testing.T) {
	t.Setenv("CREDENTIALS_DIRECTORY", t.TempDir())
	for _, v := range []string{"credential:", "credential:../etc/shadow", "credential:a/b", "credential:.."} {
		_, err := configs.Parse([]byte("gateways: [{name: g, kind: mmsp, options: {key_file: \"" + v + "\"}}]\n"))
		if err == nil || !strings.Contains(err.Error(), "plain name") {
			t.Errorf("%s: err = %v, want a refusal asking for a plain name", v, err)
		}
	}
}

func TestInlineSecretNeedsAPrivateConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posagent.yaml")
	const yamlText = "gateways:\n  - name: g\n    kind: mmsp\n    options:\n      merchant_no: \"1\"\n      key: ea21842eea24e448b991b1cb0a0294cf\n"
	write := func(mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(yamlText), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	write(0o640)
	_, err := configs.Load(path)
	if err == nil {
		t.Fatal("an inline key in a group-readable config was accepted")
	}
	for _, want := range []string{"gateways[0].options.key (line 6)", "0640", "chmod 600"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "ea21842e") {
		t.Errorf("the error repeats the secret: %v", err)
	}
	write(0o600)
	if _, err := configs.Load(path); err != nil {
		t.Errorf("an inline key in a 0600 config: %v", err)
	}
	// A key_file in a 0640 config is the packaged layout and is fine.
	if err := os.WriteFile(path, []byte("gateways: [{name: g, kind: mmsp, options: {key_file: k}}]\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := configs.Load(path); err != nil {
		t.Errorf("key_file in a 0640 config: %v", err)
	}
}
