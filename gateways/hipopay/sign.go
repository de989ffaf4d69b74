package hipopay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/posagent/posagent/gateways/internal/keyfile"
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

// LoadPublicKey reads a public key file (the platform's, or in the
// simulator the merchant's).
func LoadPublicKey(path string) (*rsa.PublicKey, error) { return keyfile.LoadRSAPublic(path, KeyBits) }
