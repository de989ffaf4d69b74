package hipopay

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	keysOnce          sync.Once
	testKey, otherKey *rsa.PrivateKey
)

// keys generates two RSA 2048 key pairs once per test binary.
func keys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if testKey, err = rsa.GenerateKey(rand.Reader, KeyBits); err != nil {
			panic(err)
		}
		if otherKey, err = rsa.GenerateKey(rand.Reader, KeyBits); err != nil {
			panic(err)
		}
	})
	return testKey, otherKey
}

func writePEM(t *testing.T, path, typ string, der []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // the umask may have narrowed it
		t.Fatal(err)
	}
}

// The spec's steps II.1 and II.2: parameters sorted by name in ASCII order,
// "k=v" joined by "&", then "," and the Timestamp. Values are not escaped;
// an empty value is signed as "k=".
func TestSigningString(t *testing.T) {
	cases := []struct {
		name string
		p    Params
		ts   string
		want string
	}{
		{"check order", Params{"out_trade_id": "2746847384112837273872"}, "1704164645",
			"out_trade_id=2746847384112837273872,1704164645"},
		{"refund, sorted", Params{"refund_amount": "8.88", "payment_no": "201901021232211023", "out_refund_id": "R201901021232213"}, "1704164645",
			"out_refund_id=R201901021232213&payment_no=201901021232211023&refund_amount=8.88,1704164645"},
		{"ASCII order puts upper case first", Params{"b": "1", "B": "2", "a_b": "3", "ab": "4"}, "1",
			"B=2&a_b=3&ab=4&b=1,1"},
		{"values unescaped", Params{"notify_url": "https://till.example/n?a=1&b=2", "product_info": "童装 kids"}, "9",
			"notify_url=https://till.example/n?a=1&b=2&product_info=童装 kids,9"},
		{"empty value signed", Params{"a": "", "b": "x"}, "9", "a=&b=x,9"},
		{"no parameters", Params{}, "9", ",9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.p.SigningString(c.ts); got != c.want {
				t.Errorf("SigningString:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	k, other := keys(t)
	text := Params{"out_trade_id": "PA1", "x": "中文"}.SigningString("1704164645")
	sig, err := Sign(k, text)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(&k.PublicKey, text, sig); err != nil {
		t.Fatalf("Verify own signature: %v", err)
	}
	if err := Verify(&k.PublicKey, text, sig[:40]+"\n"+sig[40:]); err != nil {
		t.Errorf("Verify with a line break: %v", err)
	}
	otherSig, _ := Sign(other, text)
	for name, c := range map[string]struct{ text, sig string }{
		"other key":         {text, otherSig},
		"other timestamp":   {Params{"out_trade_id": "PA1", "x": "中文"}.SigningString("1704164646"), sig},
		"changed value":     {Params{"out_trade_id": "PA2", "x": "中文"}.SigningString("1704164645"), sig},
		"no signature":      {text, ""},
		"not base64":        {text, "%%%"},
		"truncated":         {text, sig[:20]},
		"zero signature":    {text, base64.StdEncoding.EncodeToString(make([]byte, 256))},
		"signature of text": {text, base64.StdEncoding.EncodeToString([]byte(text))},
	} {
		t.Run(name, func(t *testing.T) {
			if err := Verify(&k.PublicKey, c.text, c.sig); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
}

// An independent check of the signature: what the adapter signs, openssl
// verifies; what openssl signs, the adapter verifies; and keys made the
// way the spec says (openssl genrsa, openssl rsa -pubout) load.
func TestSignatureAgainstOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed: the independent RSA SHA-256 cross-check needs it")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// The spec's own key generation commands.
	priv := filepath.Join(dir, "private.key")
	pub := filepath.Join(dir, "public.key")
	run("genrsa", "-out", priv, "2048")
	run("rsa", "-pubout", "-in", priv, "-out", pub)
	if err := os.Chmod(priv, 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := LoadPrivateKey(priv)
	if err != nil {
		t.Fatalf("key from openssl genrsa: %v", err)
	}
	pubKey, err := LoadPublicKey(pub)
	if err != nil {
		t.Fatalf("key from openssl rsa -pubout: %v", err)
	}
	p := Params{"payment_no": "2637473637382", "out_refund_id": "R201901021232213", "refund_amount": "8.88", "note": "退款 refund"}
	text := p.SigningString("1704164645")
	data := filepath.Join(dir, "data.txt")
	if err := os.WriteFile(data, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("adapter signs, openssl verifies", func(t *testing.T) {
		sig, err := Sign(key, text)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(sig)
		sigFile := filepath.Join(dir, "sig.bin")
		if err := os.WriteFile(sigFile, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", pub, "-signature", sigFile, data).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verified OK") {
			t.Fatalf("openssl does not verify the adapter's signature: %v\n%s", err, out)
		}
	})
	t.Run("openssl signs, adapter verifies", func(t *testing.T) {
		sigFile := filepath.Join(dir, "ossl.bin")
		run("dgst", "-sha256", "-sign", priv, "-out", sigFile, data)
		raw, err := os.ReadFile(sigFile)
		if err != nil {
			t.Fatal(err)
		}
		sig := base64.StdEncoding.EncodeToString(raw)
		if err := Verify(pubKey, text, sig); err != nil {
			t.Fatalf("adapter does not verify openssl's signature: %v", err)
		}
		if err := Verify(pubKey, p.SigningString("1704164646"), sig); err == nil {
			t.Fatal("adapter verified openssl's signature over another timestamp")
		}
	})
	t.Run("PKCS#1 and PKCS#8 from openssl", func(t *testing.T) {
		p8 := filepath.Join(dir, "p8.pem")
		run("pkcs8", "-topk8", "-nocrypt", "-in", priv, "-out", p8)
		p1 := filepath.Join(dir, "p1.pem")
		run("rsa", "-in", priv, "-traditional", "-out", p1)
		for _, f := range []string{p8, p1} {
			if err := os.Chmod(f, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadPrivateKey(f); err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
			}
		}
	})
}

func TestLoadPrivateKey(t *testing.T) {
	k, _ := keys(t)
	dir := t.TempDir()
	p8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	cases := []struct {
		name    string
		typ     string
		der     []byte
		mode    os.FileMode
		wantErr string
	}{
		{"pkcs1 0600", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k), 0o600, ""},
		{"pkcs8 0400", "PRIVATE KEY", p8, 0o400, ""},
		{"group readable", "PRIVATE KEY", p8, 0o640, "mode 0640"},
		{"group writable", "PRIVATE KEY", p8, 0o620, "mode 0620"},
		{"world readable", "PRIVATE KEY", p8, 0o604, "mode 0604"},
		{"1024 bits", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small), 0o600, "1024 bits"},
		{"a public key", "PUBLIC KEY", pubDER, 0o600, "not an RSA private key"},
		{"damaged", "PRIVATE KEY", p8[:100], 0o600, "PKCS#8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".pem")
			writePEM(t, p, c.typ, c.der, c.mode)
			_, err := LoadPrivateKey(p)
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("LoadPrivateKey: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("LoadPrivateKey = %v, want an error containing %q", err, c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), p):
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	if _, err := LoadPrivateKey(filepath.Join(dir, "absent.pem")); err == nil {
		t.Error("an absent key file loaded")
	}
}

func TestParsePublicKeyPEM(t *testing.T) {
	k, _ := keys(t)
	pkix, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	for _, c := range []struct {
		typ string
		der []byte
		ok  bool
	}{
		{"PUBLIC KEY", pkix, true},
		{"RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.PublicKey), true},
		{"PRIVATE KEY", pkix, false},
		{"PUBLIC KEY", pkix[:30], false},
	} {
		_, err := ParsePublicKeyPEM(pem.EncodeToMemory(&pem.Block{Type: c.typ, Bytes: c.der}))
		if (err == nil) != c.ok {
			t.Errorf("%s (%d bytes): %v", c.typ, len(c.der), err)
		}
	}
}
