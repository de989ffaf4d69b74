package allinpaysim

import (
	"fmt"
	"path/filepath"

	"github.com/posagent/posagent/gateways/internal/keyfile"
)

// keyBits is the key length §1.6.3 asks for ("RSA2 secret key is 2048").
const keyBits = 2048

// KeySet is a matched set of key files for a demo: the merchant's pair
// (the adapter signs with the private key, the simulator verifies with the
// public one) and the platform's pair (the simulator signs, the adapter
// verifies). Nothing here is ever committed; it is generated on the till.
// Pairing an adapter with the simulator (its options) is the caller's:
// the simulator imports nothing of the adapter.
type KeySet struct {
	Dir                   string
	MerchantKeyFile       string // merchant private key, PKCS#8 PEM
	MerchantPublicKeyFile string
	PlatformKeyFile       string // platform private key, PKCS#8 PEM
	PlatformPublicKeyFile string
}

// KeySetIn names the files of a key set in dir.
func KeySetIn(dir string) KeySet {
	return KeySet{
		Dir:                   dir,
		MerchantKeyFile:       filepath.Join(dir, "merchant_key.pem"),
		MerchantPublicKeyFile: filepath.Join(dir, "merchant_public.pem"),
		PlatformKeyFile:       filepath.Join(dir, "platform_key.pem"),
		PlatformPublicKeyFile: filepath.Join(dir, "platform_public.pem"),
	}
}

// GenerateKeySet makes sure dir holds a matched key set and returns it:
// the files are kept when all four exist (a restarted demo keeps its
// keys), else two new RSA 2048 pairs are written, every file mode 0600 and
// dir 0700.
func GenerateKeySet(dir string) (KeySet, error) {
	ks := KeySetIn(dir)
	if err := keyfile.EnsurePairs(keyBits, keyfile.KeyPair{Private: ks.MerchantKeyFile, Public: ks.MerchantPublicKeyFile}, keyfile.KeyPair{Private: ks.PlatformKeyFile, Public: ks.PlatformPublicKeyFile}); err != nil {
		return KeySet{}, err
	}
	return ks, nil
}

// Load reads the simulator's half: the merchant public key and the
// platform private key, into o.
func (k KeySet) Load(o *Options) error {
	mpub, err := keyfile.LoadRSAPublic(k.MerchantPublicKeyFile, keyBits)
	if err != nil {
		return fmt.Errorf("allinpaysim: %w", err)
	}
	ppriv, err := keyfile.LoadRSAPrivate(k.PlatformKeyFile, keyBits)
	if err != nil {
		return fmt.Errorf("allinpaysim: %w", err)
	}
	o.MerchantKey, o.PlatformKey = mpub, ppriv
	return nil
}
