package allinpay

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
}

func publicPEM(t *testing.T, dir string, k *rsa.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "pub.pem")
	writePEM(t, p, "PUBLIC KEY", der, 0o644)
	return p
}

// The example in spec §1.4.2, with its damaged middle left out: the fields
// sorted by name, joined k=v&k=v, values unescaped, empty ones absent.
func TestSigningStringSpecExample(t *testing.T) {
	f := Fields{
		"webNotifyUrl":   "http://www.test.com/test",
		"version":        "V1.0",
		"transAmount":    "1",
		"totalAmount":    "0",
		"terminalId":     "20180626171833558001",
		"storeId":        "20180626171833558001",
		"outTransNo":     "20180626171856517",
		"organId":        "182",
		"notifyUrl":      "http://www.test.com/gateway/api/notify/allNotify",
		"mchNo":          "6666666600003",
		"limitPay":       "creditCard",
		"goodsSubject":   "20180626171856517",
		"discountAmount": "0",
		"authCode":       "288089615150808812",
		"accessCode":     "200000000318",
		"signature":      "ignored",
		"tipsAmount":     "",
	}
	want := "accessCode=200000000318&authCode=288089615150808812&discountAmount=0&goodsSubject=" +
		"20180626171856517&limitPay=creditCard&mchNo=6666666600003&notifyUrl=http://www.t" +
		"est.com/gateway/api/notify/allNotify&organId=182&outTransNo=20180626171856517" +
		"&storeId=20180626171833558001&terminalId=20180626171833558001&totalAmount=0&" +
		"transAmount=1&version=V1.0&webNotifyUrl=http://www.test.com/test"
	if got := f.SigningString(); got != want {
		t.Errorf("SigningString:\n got %s\nwant %s", got, want)
	}
}

func TestSignVerify(t *testing.T) {
	k, other := keys(t)
	f := Fields{"b": "2", "a": "中文", "signType": SignType}
	sig, err := Sign(k, f)
	if err != nil {
		t.Fatal(err)
	}
	f[SignatureField] = sig
	if err := Verify(&k.PublicKey, f); err != nil {
		t.Errorf("Verify own signature: %v", err)
	}
	for name, mutate := range map[string]func(Fields){
		"other key":        func(f Fields) { s, _ := Sign(other, f); f[SignatureField] = s },
		"changed value":    func(f Fields) { f["b"] = "3" },
		"added field":      func(f Fields) { f["c"] = "x" },
		"no signature":     func(f Fields) { delete(f, SignatureField) },
		"not base64":       func(f Fields) { f[SignatureField] = "%%%" },
		"other sign type":  func(f Fields) { f["signType"] = "MD5" },
		"truncated":        func(f Fields) { f[SignatureField] = f[SignatureField][:20] },
		"empty signature":  func(f Fields) { f[SignatureField] = "" },
		"signature of nil": func(f Fields) { f[SignatureField] = base64.StdEncoding.EncodeToString(make([]byte, 256)) },
	} {
		t.Run(name, func(t *testing.T) {
			g := Fields{}
			for k, v := range f {
				g[k] = v
			}
			mutate(g)
			if err := Verify(&k.PublicKey, g); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
	// An empty field is the same as an absent one, so adding one does not
	// break the signature.
	f["empty"] = ""
	if err := Verify(&k.PublicKey, f); err != nil {
		t.Errorf("Verify with an added empty field: %v", err)
	}
}

// An independent check of RSA2: what the adapter signs, openssl verifies,
// and what openssl signs, the adapter verifies.
func TestSignatureAgainstOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed; the independent signature check needs it")
	}
	k, _ := keys(t)
	dir := t.TempDir()
	pub := publicPEM(t, dir, &k.PublicKey)
	priv := filepath.Join(dir, "priv.pem")
	writePEM(t, priv, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k), 0o600)

	f := Fields{
		"requestNo": "2024010112000012345678901234", "version": Version, "accessCode": "200000000318",
		"transType": "WXPAY_MICROPAY", "signType": SignType, "mchNo": "6666666600003",
		"outTransNo": "PA202401011200000001", "transAmount": "100", "currency": "HKD",
		"notifyUrl": "https://till.example/notify?a=1&b=2", "goodsDetail": "童装 kids clothing",
	}
	data := filepath.Join(dir, "data.txt")
	if err := os.WriteFile(data, []byte(f.SigningString()), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("adapter signs, openssl verifies", func(t *testing.T) {
		sig, err := Sign(k, f)
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
		out, err := exec.Command(openssl, "dgst", "-sha256", "-sign", priv, "-out", sigFile, data).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl dgst -sign: %v\n%s", err, out)
		}
		raw, err := os.ReadFile(sigFile)
		if err != nil {
			t.Fatal(err)
		}
		g := Fields{SignatureField: base64.StdEncoding.EncodeToString(raw)}
		for k, v := range f {
			g[k] = v
		}
		if err := Verify(&k.PublicKey, g); err != nil {
			t.Fatalf("adapter does not verify openssl's signature: %v", err)
		}
		g["transAmount"] = "101"
		if err := Verify(&k.PublicKey, g); err == nil {
			t.Fatal("adapter verified openssl's signature over different data")
		}
	})
	t.Run("openssl-generated keys load", func(t *testing.T) {
		p8 := filepath.Join(dir, "p8.pem")
		if out, err := exec.Command(openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", p8).CombinedOutput(); err != nil {
			t.Fatalf("openssl genpkey: %v\n%s", err, out)
		}
		if err := os.Chmod(p8, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadPrivateKey(p8); err != nil {
			t.Errorf("PKCS#8 key from openssl: %v", err)
		}
		p1 := filepath.Join(dir, "p1.pem")
		if out, err := exec.Command(openssl, "rsa", "-in", p8, "-traditional", "-out", p1).CombinedOutput(); err != nil {
			t.Fatalf("openssl rsa -traditional: %v\n%s", err, out)
		}
		if err := os.Chmod(p1, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadPrivateKey(p1); err != nil {
			t.Errorf("PKCS#1 key from openssl: %v", err)
		}
		pp := filepath.Join(dir, "p8pub.pem")
		if out, err := exec.Command(openssl, "pkey", "-in", p8, "-pubout", "-out", pp).CombinedOutput(); err != nil {
			t.Fatalf("openssl pkey -pubout: %v\n%s", err, out)
		}
		if _, err := LoadPublicKey(pp); err != nil {
			t.Errorf("public key from openssl: %v", err)
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
	cases := []struct {
		name    string
		typ     string
		der     []byte
		mode    os.FileMode
		wantErr string
	}{
		{"pkcs1", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k), 0o600, ""},
		{"pkcs8", "PRIVATE KEY", p8, 0o400, ""},
		{"group readable", "PRIVATE KEY", p8, 0o640, "mode 0640"},
		{"world readable", "PRIVATE KEY", p8, 0o604, "mode 0604"},
		{"1024 bits", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small), 0o600, "1024 bits"},
		{"not a key", "CERTIFICATE", []byte("x"), 0o600, "not an RSA private key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".pem")
			writePEM(t, p, c.typ, c.der, c.mode)
			if err := os.Chmod(p, c.mode); err != nil { // umask may have narrowed it
				t.Fatal(err)
			}
			_, err := LoadPrivateKey(p)
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("LoadPrivateKey: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("LoadPrivateKey = %v, want an error containing %q", err, c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), p) && strings.Contains(c.wantErr, "mode"):
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}
