package allinpay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// SignType is the only signing algorithm the spec names: RSA2, which it
// defines as SHA256WithRSA (RSASSA-PKCS1-v1_5 over SHA-256) with a
// 2048-bit key.
const SignType = "RSA2"

// KeyBits is the key length the spec requires.
const KeyBits = 2048

// Sign computes the signature of f's signing string and returns it base64
// encoded (standard alphabet, padded), the encoding of the platform's Java
// demos. f itself is not changed.
func Sign(key *rsa.PrivateKey, f Fields) (string, error) {
	sum := sha256.Sum256([]byte(f.SigningString()))
	// PKCS#1 v1.5 is deterministic; rand is only used for blinding.
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// ErrBadSignature is wrapped by every verification failure.
var ErrBadSignature = errors.New("signature does not verify")

// Verify checks f's signature field against pub. A missing signature, a
// signType other than RSA2, or a signature that is not base64 is a failure
// like a wrong one: an answer nobody can vouch for is not trusted.
func Verify(pub *rsa.PublicKey, f Fields) error {
	if st := f["signType"]; st != "" && st != SignType {
		return fmt.Errorf("%w: signType %q, want %s", ErrBadSignature, st, SignType)
	}
	s := f[SignatureField]
	if s == "" {
		return fmt.Errorf("%w: no signature", ErrBadSignature)
	}
	// Java's MIME encoder breaks lines; whitespace carries no data.
	s = strings.Join(strings.Fields(s), "")
	sig, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("%w: not base64", ErrBadSignature)
	}
	sum := sha256.Sum256([]byte(f.SigningString()))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return ErrBadSignature
	}
	return nil
}

// ParsePrivateKeyPEM reads an RSA private key in PKCS#1 ("RSA PRIVATE KEY")
// or PKCS#8 ("PRIVATE KEY") PEM. Keys shorter than 2048 bits are refused:
// the spec requires 2048, and a shorter key would be a configuration
// mistake worth stopping at.
func ParsePrivateKeyPEM(b []byte) (*rsa.PrivateKey, error) {
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
	if n := key.N.BitLen(); n < KeyBits {
		return nil, fmt.Errorf("key is %d bits; the spec requires %d", n, KeyBits)
	}
	return key, nil
}

// ParsePublicKeyPEM reads an RSA public key as "PUBLIC KEY" (X.509
// SubjectPublicKeyInfo, what the platform's download page and openssl give),
// "RSA PUBLIC KEY" (PKCS#1) or a "CERTIFICATE".
func ParsePublicKeyPEM(b []byte) (*rsa.PublicKey, error) {
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
	if n := rk.N.BitLen(); n < KeyBits {
		return nil, fmt.Errorf("key is %d bits; the spec requires %d", n, KeyBits)
	}
	return rk, nil
}

// LoadPrivateKey reads the merchant's private key file. A file that group
// or others may read is refused: the key signs payments and refunds.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if m := st.Mode().Perm(); m&0o077 != 0 {
		return nil, fmt.Errorf("private key file %s has mode %04o: it must not be accessible by group or others (chmod 600 %s)", path, m, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKeyPEM(b)
	if err != nil {
		return nil, fmt.Errorf("private key file %s: %w", path, err)
	}
	return k, nil
}

// LoadPublicKey reads a public key file (the platform's, or in the
// simulator the merchant's).
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublicKeyPEM(b)
	if err != nil {
		return nil, fmt.Errorf("public key file %s: %w", path, err)
	}
	return k, nil
}
