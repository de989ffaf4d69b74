package swiftpasssim

import (
	"fmt"
	"path/filepath"

	"github.com/posagent/posagent/gateways/internal/keyfile"
)

// KeyFiles are the RSA_1_256 key files of a simulated merchant: the
// merchant's pair (the adapter signs with the private key, the simulator
// verifies with the public one) and the platform's (the simulator signs,
// the adapter verifies). They are generated where they are used; none is
// ever committed. Pointing an adapter at its half is the wiring's job
// (cmd/posagent, the adapter's tests), not the simulator's.
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
	if err := keyfile.EnsurePairs(rsaBits, keyfile.KeyPair{Private: k.MerchantKeyFile, Public: k.MerchantPublicKeyFile}, keyfile.KeyPair{Private: k.PlatformKeyFile, Public: k.PlatformPublicKeyFile}); err != nil {
		return KeyFiles{}, err
	}
	return k, nil
}

// Load sets the simulator's half into o: sign_type RSA_1_256, the
// merchant's public key and the platform's private key.
func (k KeyFiles) Load(o *Options) error {
	mpub, err := keyfile.LoadRSAPublic(k.MerchantPublicKeyFile, rsaBits)
	if err != nil {
		return fmt.Errorf("swiftpasssim: %w", err)
	}
	ppriv, err := keyfile.LoadRSAPrivate(k.PlatformKeyFile, rsaBits)
	if err != nil {
		return fmt.Errorf("swiftpasssim: %w", err)
	}
	o.SignType, o.MerchantKey, o.PlatformKey = SignRSA, mpub, ppriv
	return nil
}
