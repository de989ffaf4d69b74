package swiftpasssim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/posagent/posagent/gateways/swiftpass"
)

// KeyFiles are the RSA_1_256 key files of a simulated merchant: the
// merchant's pair (the adapter signs with the private key, the simulator
// verifies with the public one) and the platform's (the simulator signs,
// the adapter verifies). They are generated where they are used; none is
// ever committed.
type KeyFiles struct {
	MerchantKeyFile       string // PKCS#8 PEM, mode 0600
	MerchantPublicKeyFile string
	PlatformKeyFile       string // PKCS#8 PEM, mode 0600
	PlatformPublicKeyFile string
}

// GenerateKeyFiles makes sure dir holds a matched set of RSA 2048 key
// files and returns them: existing files are kept when all four exist.
func GenerateKeyFiles(dir string) (KeyFiles, error) {
	k := KeyFiles{
		MerchantKeyFile:       filepath.Join(dir, "merchant_key.pem"),
		MerchantPublicKeyFile: filepath.Join(dir, "merchant_public.pem"),
		PlatformKeyFile:       filepath.Join(dir, "platform_key.pem"),
		PlatformPublicKeyFile: filepath.Join(dir, "platform_public.pem"),
	}
	have := 0
	for _, f := range []string{k.MerchantKeyFile, k.MerchantPublicKeyFile, k.PlatformKeyFile, k.PlatformPublicKeyFile} {
		if _, err := os.Stat(f); err == nil {
			have++
		} else if !errors.Is(err, fs.ErrNotExist) {
			return KeyFiles{}, err
		}
	}
	if have == 4 {
		return k, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return KeyFiles{}, err
	}
	for _, pair := range [][2]string{{k.MerchantKeyFile, k.MerchantPublicKeyFile}, {k.PlatformKeyFile, k.PlatformPublicKeyFile}} {
		key, err := rsa.GenerateKey(rand.Reader, swiftpass.RSAKeyBits)
		if err != nil {
			return KeyFiles{}, err
		}
		priv, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return KeyFiles{}, err
		}
		pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			return KeyFiles{}, err
		}
		if err := writeFile(pair[0], pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv})); err != nil {
			return KeyFiles{}, err
		}
		if err := writeFile(pair[1], pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})); err != nil {
			return KeyFiles{}, err
		}
	}
	return k, nil
}

func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Load sets the simulator's half into o: sign_type RSA_1_256, the
// merchant's public key and the platform's private key.
func (k KeyFiles) Load(o *Options) error {
	mpub, err := swiftpass.LoadPublicKey(k.MerchantPublicKeyFile)
	if err != nil {
		return fmt.Errorf("swiftpasssim: %w", err)
	}
	ppriv, err := swiftpass.LoadPrivateKey(k.PlatformKeyFile)
	if err != nil {
		return fmt.Errorf("swiftpasssim: %w", err)
	}
	o.SignType, o.MerchantKey, o.PlatformKey = swiftpass.RSA, mpub, ppriv
	return nil
}

// Client sets the adapter's half into co: its private key and the
// platform's public key.
func (k KeyFiles) Client(co *swiftpass.Options) {
	co.SignType, co.Key, co.KeyFile = swiftpass.RSA, "", ""
	co.PrivateKeyFile, co.PlatformKeyFile = k.MerchantKeyFile, k.PlatformPublicKeyFile
}
