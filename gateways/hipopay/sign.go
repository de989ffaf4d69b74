package hipopay

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
	"sort"
	"strings"
)

// KeyBits is the least RSA key length accepted: the spec's own key
// generation step is `openssl genrsa -out private.key 2048`.
const KeyBits = 2048

// Params are the parameters of one message: a request's query string or
// form, or an answer's or notification's fields as received. The signature
// covers exactly the parameters present, empty values included (see
// SigningString).
type Params map[string]string

// SigningString is the spec's "to-be-signed string" (Digital Signature,
// steps II.1 and II.2): the parameters sorted by name in ascending byte
// order, joined "k=v&k=v" with the values as they are (not URL-escaped),
// then "," and the Timestamp header's value.
func (p Params) SigningString(timestamp string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(p[k])
	}
	b.WriteByte(',')
	b.WriteString(timestamp)
	return b.String()
}

// Sign signs text with RSA PKCS#1 v1.5 over SHA-256 (step III: "RSA,
// SHA256 as Hash algorithm") and returns it base64 encoded (standard
// alphabet, padded), the value of the Signature header.
func Sign(key *rsa.PrivateKey, text string) (string, error) {
	sum := sha256.Sum256([]byte(text))
	// PKCS#1 v1.5 is deterministic; rand only blinds the computation.
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// ErrBadSignature is wrapped by every verification failure.
var ErrBadSignature = errors.New("signature does not verify")

// Verify checks a base64 Signature header value over text with pub. An
// empty or undecodable signature fails like a wrong one.
func Verify(pub *rsa.PublicKey, text, signature string) error {
	if signature == "" {
		return fmt.Errorf("%w: no Signature", ErrBadSignature)
	}
	// Line breaks (a MIME-style encoder) carry no data.
	signature = strings.Join(strings.Fields(signature), "")
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("%w: Signature is not base64", ErrBadSignature)
	}
	sum := sha256.Sum256([]byte(text))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return ErrBadSignature
	}
	return nil
}

// ParsePrivateKeyPEM reads an RSA private key, PKCS#1 ("RSA PRIVATE KEY",
// what `openssl genrsa` writes) or PKCS#8 ("PRIVATE KEY"). Text before the
// PEM block is ignored. Keys under KeyBits are refused.
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
			return nil, fmt.Errorf("PKCS#8 key is %T, not RSA", k)
		}
		key = rk
	default:
		return nil, fmt.Errorf("PEM block %q is not an RSA private key", blk.Type)
	}
	if n := key.N.BitLen(); n < KeyBits {
		return nil, fmt.Errorf("key is %d bits, under %d", n, KeyBits)
	}
	return key, nil
}

// ParsePublicKeyPEM reads an RSA public key: "PUBLIC KEY" (what `openssl
// rsa -pubout` writes, and what HipoPay's download is expected to be),
// "RSA PUBLIC KEY" or a "CERTIFICATE".
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
		return nil, fmt.Errorf("public key is %T, not RSA", pub)
	}
	if n := rk.N.BitLen(); n < KeyBits {
		return nil, fmt.Errorf("key is %d bits, under %d", n, KeyBits)
	}
	return rk, nil
}

// LoadPrivateKey reads the merchant's private key file and refuses one
// that group or others can access: it signs refunds.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if m := st.Mode().Perm(); m&0o077 != 0 {
		return nil, fmt.Errorf("private key file %s has mode %04o: group and others must have no access (chmod 600 %s)", path, m, path)
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

// LoadPublicKey reads a public key file: the platform's in the adapter,
// the merchant's in the simulator.
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
