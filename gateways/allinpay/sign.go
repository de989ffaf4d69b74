package allinpay

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/posagent/posagent/gateways/internal/keyfile"
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
	// A body that was not percent-encoded turns the base64 '+' into a
	// space when decoded as a form; base64 has no space, so a space is a
	// '+'. Java's MIME encoder breaks lines; line breaks carry no data.
	s = strings.ReplaceAll(s, " ", "+")
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

// ParsePrivateKeyPEM reads an RSA private key (PKCS#1 or PKCS#8 PEM) of at
// least KeyBits.
func ParsePrivateKeyPEM(b []byte) (*rsa.PrivateKey, error) {
	return keyfile.ParseRSAPrivate(b, KeyBits)
}

// ParsePublicKeyPEM reads an RSA public key ("PUBLIC KEY", "RSA PUBLIC KEY"
// or a "CERTIFICATE") of at least KeyBits.
func ParsePublicKeyPEM(b []byte) (*rsa.PublicKey, error) { return keyfile.ParseRSAPublic(b, KeyBits) }

// LoadPrivateKey reads the merchant's private key file, refusing one that
// group or others may access.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	return keyfile.LoadRSAPrivate(path, KeyBits)
}

// LoadPublicKey reads the platform's public key file: PEM as
// ParsePublicKeyPEM reads it, or bare base64 of the DER
// SubjectPublicKeyInfo, the form the platform's download page and PHP
// integrations hand out.
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if k, err := ParsePublicKeyPEM(b); err == nil || bytes.Contains(b, []byte("-----BEGIN")) {
		if err != nil {
			return nil, fmt.Errorf("public key file %s: %w", path, err)
		}
		return k, nil
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	if err != nil {
		return nil, fmt.Errorf("public key file %s: neither PEM nor base64", path)
	}
	k, err := ParsePublicKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err != nil {
		return nil, fmt.Errorf("public key file %s: %w", path, err)
	}
	return k, nil
}
