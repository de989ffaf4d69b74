package hipopaysim

import (
	"fmt"
	"path/filepath"

	"github.com/posagent/posagent/gateways/internal/keyfile"
)

// KeySet is a matched set of key files for a demo or a test: the merchant's
// pair (the adapter signs with the private key, the simulator verifies with
// the public one) and the platform's pair (the simulator signs answers and
// notifications, the adapter verifies them). Generated where it is used;
// never committed.
type KeySet struct {
	Dir                   string
	MerchantKeyFile       string // merchant private key, PKCS#8 PEM, mode 0600
	MerchantPublicKeyFile string
	PlatformKeyFile       string // platform private key, PKCS#8 PEM, mode 0600
	PlatformPublicKeyFile string
}

// KeySetIn names the files of a key set in dir.
func KeySetIn(dir string) KeySet {
	return KeySet{
		Dir:                   dir,
		MerchantKeyFile:       filepath.Join(dir, "hipopay_merchant_key.pem"),
		MerchantPublicKeyFile: filepath.Join(dir, "hipopay_merchant_public.pem"),
		PlatformKeyFile:       filepath.Join(dir, "hipopay_platform_key.pem"),
		PlatformPublicKeyFile: filepath.Join(dir, "hipopay_platform_public.pem"),
	}
}

// GenerateKeySet makes sure dir holds a matched key set and returns it: an
// existing complete set is kept (a restarted demo keeps its keys), else two
// new RSA 2048 pairs are written, files 0600 in a 0700 directory.
func GenerateKeySet(dir string) (KeySet, error) {
	ks := KeySetIn(dir)
	if err := keyfile.EnsurePairs(keyBits, keyfile.KeyPair{Private: ks.MerchantKeyFile, Public: ks.MerchantPublicKeyFile}, keyfile.KeyPair{Private: ks.PlatformKeyFile, Public: ks.PlatformPublicKeyFile}); err != nil {
		return KeySet{}, err
	}
	return ks, nil
}

// Load reads the simulator's half of the set into o: the merchant's public
// key and the platform's private key.
func (k KeySet) Load(o *Options) error {
	mpub, err := keyfile.LoadRSAPublic(k.MerchantPublicKeyFile, keyBits)
	if err != nil {
		return fmt.Errorf("hipopaysim: %w", err)
	}
	ppriv, err := keyfile.LoadRSAPrivate(k.PlatformKeyFile, keyBits)
	if err != nil {
		return fmt.Errorf("hipopaysim: %w", err)
	}
	o.MerchantKey, o.PlatformKey = mpub, ppriv
	return nil
}
