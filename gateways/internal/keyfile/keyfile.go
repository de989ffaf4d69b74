// Package keyfile reads the secrets gateway adapters and their simulators
// are configured with: signing-key files, refused when group or others may
// access them, and RSA keys in the PEM forms acquirers and openssl hand out.
// One copy, so every adapter refuses the same things with the same words.
package keyfile

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ReadSecret reads a file that holds a secret (an MD5 key, a private key).
// A file that group or others may access is refused: the key signs
// payments and refunds.
func ReadSecret(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if m := st.Mode().Perm(); m&0o077 != 0 {
		return nil, fmt.Errorf("key file %s has mode %04o: it must not be accessible by group or others (chmod 600 %s)", path, m, path)
	}
	return os.ReadFile(path)
}

// ParseRSAPrivate reads an RSA private key in PKCS#1 ("RSA PRIVATE KEY",
// what `openssl genrsa` writes) or PKCS#8 ("PRIVATE KEY") PEM; text before
// the block is ignored. Keys shorter than minBits are refused: a short key
// is a configuration mistake worth stopping at.
func ParseRSAPrivate(b []byte, minBits int) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	var key *rsa.PrivateKey
	switch blk.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PKCS#1 key: %w", err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PKCS#8 key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("PKCS#8 key is %T, want RSA", k)
		}
		key = rk
	default:
		return nil, fmt.Errorf("PEM block %q is not an RSA private key", blk.Type)
	}
	if n := key.N.BitLen(); n < minBits {
		return nil, fmt.Errorf("key is %d bits; at least %d are required", n, minBits)
	}
	return key, nil
}

// ParseRSAPublic reads an RSA public key as "PUBLIC KEY" (X.509
// SubjectPublicKeyInfo, what `openssl rsa -pubout` and acquirers' download
// pages give), "RSA PUBLIC KEY" (PKCS#1) or a "CERTIFICATE".
func ParseRSAPublic(b []byte, minBits int) (*rsa.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	var pub any
	var err error
	switch blk.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(blk.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(blk.Bytes)
	case "CERTIFICATE":
		var c *x509.Certificate
		if c, err = x509.ParseCertificate(blk.Bytes); err == nil {
			pub = c.PublicKey
		}
	default:
		return nil, fmt.Errorf("PEM block %q is not an RSA public key", blk.Type)
	}
	if err != nil {
		return nil, err
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, want RSA", pub)
	}
	if n := rk.N.BitLen(); n < minBits {
		return nil, fmt.Errorf("key is %d bits; at least %d are required", n, minBits)
	}
	return rk, nil
}

// LoadRSAPrivate reads a private key file, refusing one that group or
// others may access.
func LoadRSAPrivate(path string, minBits int) (*rsa.PrivateKey, error) {
	b, err := ReadSecret(path)
	if err != nil {
		return nil, err
	}
	k, err := ParseRSAPrivate(b, minBits)
	if err != nil {
		return nil, fmt.Errorf("private key file %s: %w", path, err)
	}
	return k, nil
}

// LoadRSAPublic reads a public key file (a platform's in an adapter, the
// merchant's in a simulator).
func LoadRSAPublic(path string, minBits int) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParseRSAPublic(b, minBits)
	if err != nil {
		return nil, fmt.Errorf("public key file %s: %w", path, err)
	}
	return k, nil
}

// InlineOrFile returns a text key given either inline (key) or in a file
// (file, resolved against dir when relative), never both, with surrounding
// white space trimmed. The file is read with ReadSecret, so one that group
// or others may access is refused. The errors name the config keys key and
// key_file.
func InlineOrFile(key, file, dir string) (string, error) {
	switch {
	case key != "" && file != "":
		return "", errors.New("set key or key_file, not both")
	case file != "":
		if !filepath.IsAbs(file) && dir != "" {
			file = filepath.Join(dir, file)
		}
		b, err := ReadSecret(file)
		if err != nil {
			return "", fmt.Errorf("key_file: %w", err)
		}
		key = string(bytes.TrimSpace(b))
	}
	if key == "" {
		return "", errors.New("key or key_file is required")
	}
	return key, nil
}

// KeyPair names the two files of one RSA key pair: the private key
// (PKCS#8 PEM) and its public key (SubjectPublicKeyInfo PEM).
type KeyPair struct{ Private, Public string }

// EnsurePairs makes sure every pair's files exist, for simulators and
// demos, which generate their keys at run time instead of committing them.
// When all files are there they are kept (a restarted demo keeps its keys);
// otherwise every pair is generated anew with bits-long keys and written
// atomically, mode 0600, in directories created 0700.
func EnsurePairs(bits int, pairs ...KeyPair) error {
	complete := true
	for _, p := range pairs {
		for _, f := range []string{p.Private, p.Public} {
			_, err := os.Stat(f)
			if errors.Is(err, fs.ErrNotExist) {
				complete = false
			} else if err != nil {
				return err
			}
		}
	}
	if complete {
		return nil
	}
	for _, p := range pairs {
		if err := os.MkdirAll(filepath.Dir(p.Private), 0o700); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(p.Public), 0o700); err != nil {
			return err
		}
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return err
		}
		priv, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return err
		}
		pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			return err
		}
		if err := writePrivate(p.Private, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv})); err != nil {
			return err
		}
		if err := writePrivate(p.Public, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})); err != nil {
			return err
		}
	}
	return nil
}

// writePrivate writes through a temporary file and a rename, mode 0600
// whatever the umask or an earlier file's mode.
func writePrivate(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
