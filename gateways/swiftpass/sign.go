package swiftpass

import (
	"crypto"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/posagent/posagent/gateways/internal/keyfile"
)

// SignType is the sign_type field: the signing algorithm.
type SignType string

// The three algorithms of §4.2.
const (
	// MD5 (§4.2.1), the default when sign_type is absent:
	// upper(hex(MD5(string1 + "&key=" + key))).
	MD5 SignType = "MD5"
	// SHA256 (§4.2.2): upper(hex(HMAC-SHA256(key, string1 + "&key=" +
	// key))). The spec's formula reads SHA256(...), but only the keyed
	// HMAC reproduces its worked example; see the package doc.
	SHA256 SignType = "SHA256"
	// RSA (§4.2.3): SHA256WithRSA (RSASSA-PKCS1-v1_5, SHA-256) over
	// string1 with the merchant's 2048-bit private key, base64 encoded;
	// answers are verified with the platform's public key.
	RSA SignType = "RSA_1_256"
)

// Valid reports whether t is one of the spec's algorithms.
func (t SignType) Valid() bool { return t == MD5 || t == SHA256 || t == RSA }

// RSAKeyBits is the key length §4.2.3 requires.
const RSAKeyBits = 2048

// SignMD5 is §4.2.1's signature of f under key.
func SignMD5(f Fields, key string) string {
	sum := md5.Sum([]byte(f.SigningString() + "&key=" + key))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// SignSHA256 is §4.2.2's signature of f under key.
func SignSHA256(f Fields, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(f.SigningString() + "&key=" + key))
	return strings.ToUpper(hex.EncodeToString(m.Sum(nil)))
}

// SignRSA is §4.2.3's signature of f with priv.
func SignRSA(f Fields, priv *rsa.PrivateKey) (string, error) {
	sum := sha256.Sum256([]byte(f.SigningString()))
	// PKCS#1 v1.5 is deterministic; rand only blinds.
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// ErrBadSignature is wrapped by every verification failure.
var ErrBadSignature = errors.New("signature does not verify")

// Signer signs what one side sends and verifies what it receives, with one
// algorithm. For MD5 and SHA256 both sides share the key; for RSA the
// merchant signs with its private key and verifies with the platform's
// public key, and the platform (the simulator) the other way round.
type Signer struct {
	typ  SignType
	key  string
	priv *rsa.PrivateKey
	pub  *rsa.PublicKey
}

// NewKeySigner is a Signer for MD5 or SHA256 with the shared key.
func NewKeySigner(t SignType, key string) (Signer, error) {
	if t != MD5 && t != SHA256 {
		return Signer{}, fmt.Errorf("sign_type %q does not use a shared key", t)
	}
	if key == "" {
		return Signer{}, errors.New("empty key")
	}
	return Signer{typ: t, key: key}, nil
}

// NewRSASigner is a Signer for RSA_1_256: priv signs, pub verifies.
func NewRSASigner(priv *rsa.PrivateKey, pub *rsa.PublicKey) (Signer, error) {
	if priv == nil || pub == nil {
		return Signer{}, errors.New("RSA_1_256 needs a private key to sign and a public key to verify")
	}
	return Signer{typ: RSA, priv: priv, pub: pub}, nil
}

// Type is the signer's sign_type.
func (s Signer) Type() SignType { return s.typ }

// Sign returns f's signature; f is not changed.
func (s Signer) Sign(f Fields) (string, error) {
	switch s.typ {
	case MD5:
		return SignMD5(f, s.key), nil
	case SHA256:
		return SignSHA256(f, s.key), nil
	case RSA:
		return SignRSA(f, s.priv)
	}
	return "", fmt.Errorf("unknown sign_type %q", s.typ)
}

// Verify checks f's sign. The message's own sign_type (MD5 when absent,
// the spec's default) must be the signer's: an answer signed some other
// way, however valid, is not accepted, so nobody can downgrade an RSA
// merchant to a hash. A missing or malformed sign fails like a wrong one.
func (s Signer) Verify(f Fields) error {
	st := SignType(strings.TrimSpace(f["sign_type"]))
	if st == "" {
		st = MD5
	}
	if st != s.typ {
		return fmt.Errorf("%w: sign_type %q, want %s", ErrBadSignature, st, s.typ)
	}
	// Whitespace carries no data in any of the encodings; the spec's own
	// examples have a stray space after the value.
	got := strings.Join(strings.Fields(f[SignField]), "")
	if got == "" {
		return fmt.Errorf("%w: no sign", ErrBadSignature)
	}
	switch s.typ {
	case MD5, SHA256:
		want, _ := s.Sign(f)
		if !hmac.Equal([]byte(strings.ToUpper(got)), []byte(want)) {
			return ErrBadSignature
		}
		return nil
	case RSA:
		sig, err := base64.StdEncoding.DecodeString(got)
		if err != nil {
			return fmt.Errorf("%w: not base64", ErrBadSignature)
		}
		sum := sha256.Sum256([]byte(f.SigningString()))
		if rsa.VerifyPKCS1v15(s.pub, crypto.SHA256, sum[:], sig) != nil {
			return ErrBadSignature
		}
		return nil
	}
	return fmt.Errorf("%w: unknown sign_type %q", ErrBadSignature, s.typ)
}

// ParsePrivateKeyPEM reads an RSA private key (PKCS#1 or PKCS#8 PEM) of at
// least RSAKeyBits.
func ParsePrivateKeyPEM(b []byte) (*rsa.PrivateKey, error) {
	return keyfile.ParseRSAPrivate(b, RSAKeyBits)
}

// ParsePublicKeyPEM reads an RSA public key ("PUBLIC KEY", "RSA PUBLIC KEY"
// or a "CERTIFICATE") of at least RSAKeyBits.
func ParsePublicKeyPEM(b []byte) (*rsa.PublicKey, error) {
	return keyfile.ParseRSAPublic(b, RSAKeyBits)
}

// readSecretFile reads a file that holds a secret (a signing key or a
// private key), refusing one that group or others may access.
func readSecretFile(path string) ([]byte, error) { return keyfile.ReadSecret(path) }

// LoadPrivateKey reads an RSA private key file, refusing one that group or
// others may access.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	return keyfile.LoadRSAPrivate(path, RSAKeyBits)
}

// LoadPublicKey reads an RSA public key file.
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	return keyfile.LoadRSAPublic(path, RSAKeyBits)
}
