package swiftpass

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
)

// The worked examples of §4.2.1 and §4.2.2: one request signed with MD5 and
// with SHA256 under one key. The values are the test; the prose around them
// is damaged (shared/specs/README.md). What reproduces both:
//   - the fields of the XML listing, attach included (the MD5 listing
//     has it; "string1" in the prose leaves it out);
//   - notify_url https://www.xxxxxx.com/Update, with six x's as in the MD5
//     listing (the prose and the SHA256 listing have five);
//   - sign_type=SHA256 in the SHA256 string (it is in that listing) and
//     no sign_type in the MD5 one (MD5 is the default, and not listed);
//   - the key 9f72151b… (the MD5 formula shows another, 9d101c97…);
//   - MD5: upper(hex(MD5(string1&key=KEY)));
//   - SHA256: upper(hex(HMAC-SHA256(KEY, string1&key=KEY))): the formula
//     reads SHA256(…), but a plain digest of that text gives 454E3B34….
const exampleKey = "9f72151b6592fab3e0c63a1ab3c0877b"

func exampleFields() Fields {
	return Fields{
		"mch_id":        "7551000001",
		"out_trade_no":  "PRDT4CAVMCIY247-T4CAVMCIY247",
		"nonce_str":     "167755100000104437",
		"service":       "pay.weixin.native.intl",
		"body":          "Tickets",
		"attach":        "T4CAVMCIY247",
		"total_fee":     "496650",
		"mch_create_ip": "103.43.162.161",
		"notify_url":    "https://www.xxxxxx.com/Update",
		"time_start":    "20230210175644",
		"time_expire":   "20230210180644",
	}
}

func TestSpecExampleMD5(t *testing.T) {
	f := exampleFields()
	const wantString = "attach=T4CAVMCIY247&body=Tickets&mch_create_ip=103.43.162.161&mch_id=7551000001" +
		"&nonce_str=167755100000104437&notify_url=https://www.xxxxxx.com/Update" +
		"&out_trade_no=PRDT4CAVMCIY247-T4CAVMCIY247&service=pay.weixin.native.intl" +
		"&time_expire=20230210180644&time_start=20230210175644&total_fee=496650"
	if got := f.SigningString(); got != wantString {
		t.Fatalf("SigningString =\n%s\nwant\n%s", got, wantString)
	}
	const want = "EF1D35BE0ABD975915196EC515E90CF3"
	if got := SignMD5(f, exampleKey); got != want {
		t.Fatalf("SignMD5 = %s, want the spec's %s", got, want)
	}
	s, err := NewKeySigner(MD5, exampleKey)
	if err != nil {
		t.Fatal(err)
	}
	f[SignField] = want
	if err := s.Verify(f); err != nil {
		t.Fatalf("the spec's MD5 example does not verify: %v", err)
	}
	f[SignField] = strings.ToLower(want) + " " // case and stray spaces carry no data
	if err := s.Verify(f); err != nil {
		t.Fatalf("lower case with a trailing space: %v", err)
	}
}

func TestSpecExampleSHA256(t *testing.T) {
	f := exampleFields()
	f["sign_type"] = "SHA256"
	const want = "B6C40961FF67604B9F085CD24312B026BF1F60B17B59C5EEA8A42FA55F841BC9"
	if got := SignSHA256(f, exampleKey); got != want {
		t.Fatalf("SignSHA256 = %s, want the spec's %s", got, want)
	}
	s, err := NewKeySigner(SHA256, exampleKey)
	if err != nil {
		t.Fatal(err)
	}
	// The listing's value has a trailing space, as printed.
	f[SignField] = want + " "
	if err := s.Verify(f); err != nil {
		t.Fatalf("the spec's SHA256 example does not verify: %v", err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	md5s, _ := NewKeySigner(MD5, exampleKey)
	shas, _ := NewKeySigner(SHA256, exampleKey)
	signed := func(s Signer, mutate func(Fields)) Fields {
		f := exampleFields()
		if s.Type() != MD5 {
			f["sign_type"] = string(s.Type())
		}
		sig, err := s.Sign(f)
		if err != nil {
			t.Fatal(err)
		}
		f[SignField] = sig
		mutate(f)
		return f
	}
	cases := []struct {
		name string
		s    Signer
		f    Fields
	}{
		{"changed value", md5s, signed(md5s, func(f Fields) { f["total_fee"] = "1" })},
		{"added field", md5s, signed(md5s, func(f Fields) { f["extra"] = "x" })},
		{"no sign", md5s, signed(md5s, func(f Fields) { delete(f, SignField) })},
		{"other key", md5s, signed(mustSigner(t, MD5, "other"), func(Fields) {})},
		{"MD5 answer to a SHA256 merchant", shas, signed(md5s, func(Fields) {})},
		{"SHA256 answer to an MD5 merchant", md5s, signed(shas, func(Fields) {})},
		{"unknown sign_type", md5s, signed(md5s, func(f Fields) { f["sign_type"] = "HMAC" })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.s.Verify(c.f); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
	// An added field the signer covered is fine (§4.1 point 3: answers
	// may grow fields).
	if err := md5s.Verify(signed(md5s, func(Fields) {})); err != nil {
		t.Fatal(err)
	}
}

func mustSigner(t testing.TB, st SignType, key string) Signer {
	t.Helper()
	s, err := NewKeySigner(st, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// §4.2.3's RSA example cannot be a vector: its private key is damaged by
// extraction (shared/specs/README.md). These check the algorithm with a
// generated key: SHA256WithRSA over the signing string, which carries
// sign_type=RSA_1_256, base64 (never upper-cased: base64 is case
// sensitive, whatever the formula's toUpperCase says).
func TestRSA(t *testing.T) {
	merchant := testRSAKey(t)
	platform, err := rsa.GenerateKey(rand.Reader, RSAKeyBits)
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewRSASigner(merchant, &platform.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	server, err := NewRSASigner(platform, &merchant.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	f := exampleFields()
	f["sign_type"] = string(RSA)
	if !strings.Contains(f.SigningString(), "&sign_type=RSA_1_256&") {
		t.Fatalf("sign_type is not signed: %s", f.SigningString())
	}
	sig, err := client.Sign(f)
	if err != nil {
		t.Fatal(err)
	}
	f[SignField] = sig
	if err := server.Verify(f); err != nil {
		t.Fatalf("the platform cannot verify the merchant's request: %v", err)
	}
	if err := client.Verify(f); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("the merchant verified its own signature as the platform's: %v", err)
	}
	// Java's MIME base64 breaks lines; whitespace carries nothing.
	f[SignField] = sig[:40] + "\n" + sig[40:]
	if err := server.Verify(f); err != nil {
		t.Fatalf("line-broken base64: %v", err)
	}
	f[SignField] = strings.ToUpper(sig)
	if err := server.Verify(f); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("an upper-cased RSA signature verified: %v", err)
	}
}
