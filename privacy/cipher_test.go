package privacy_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/qianmian/qianmian/privacy"
)

func mustCipher(t *testing.T, key []byte) *privacy.Cipher {
	t.Helper()
	c, err := privacy.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCipher_RoundTrip(t *testing.T) {
	t.Parallel()
	c := mustCipher(t, privacy.GenerateKey())
	for _, plain := range []string{"13800138000", "x", "上海市浦东新区世纪大道 100 号", strings.Repeat("a", 10000)} {
		ct, err := c.Encrypt(plain)
		if err != nil {
			t.Fatal(err)
		}
		// A one-byte plaintext turns up in ~30 random bytes one time in nine; four bytes or
		// more by chance about once in 10⁸ runs.
		if len(plain) >= 4 && bytes.Contains(ct, []byte(plain)) {
			t.Fatalf("ciphertext of %q contains the plaintext", plain)
		}
		got, err := c.Decrypt(ct)
		if err != nil {
			t.Fatal(err)
		}
		if got != plain {
			t.Fatalf("Decrypt(Encrypt(%q))=%q", plain, got)
		}
	}
}

func TestCipher_EmptyStaysEmpty(t *testing.T) {
	t.Parallel()
	c := mustCipher(t, privacy.GenerateKey())
	ct, err := c.Encrypt("")
	if err != nil || len(ct) != 0 {
		t.Fatalf("Encrypt(\"\")=%x, %v; want empty, nil", ct, err)
	}
	got, err := c.Decrypt(nil)
	if err != nil || got != "" {
		t.Fatalf("Decrypt(nil)=%q, %v; want \"\", nil", got, err)
	}
}

func TestCipher_Tampered(t *testing.T) {
	t.Parallel()
	c := mustCipher(t, privacy.GenerateKey())
	ct, err := c.Encrypt("13800138000")
	if err != nil {
		t.Fatal(err)
	}
	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		if got, err := c.Decrypt(bad); err == nil {
			t.Fatalf("Decrypt with byte %d flipped=%q, want an error", i, got)
		}
	}
	for _, n := range []int{1, 12, len(ct) - 1} {
		if _, err := c.Decrypt(ct[:n]); err == nil {
			t.Fatalf("Decrypt of the first %d bytes succeeded, want an error", n)
		}
	}
}

func TestCipher_WrongKey(t *testing.T) {
	t.Parallel()
	ct, err := mustCipher(t, privacy.GenerateKey()).Encrypt("13800138000")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := mustCipher(t, privacy.GenerateKey()).Decrypt(ct); err == nil {
		t.Fatalf("Decrypt with another key=%q, want an error", got)
	}
}

func TestCipher_Randomized(t *testing.T) {
	t.Parallel()
	c := mustCipher(t, privacy.GenerateKey())
	a, err := c.Encrypt("13800138000")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Encrypt("13800138000")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two encryptions of the same plaintext are equal")
	}
}

func TestNewCipher_KeySize(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 24, 31, 33} {
		if _, err := privacy.NewCipher(make([]byte, n)); err == nil {
			t.Errorf("NewCipher(%d bytes) succeeded, want an error", n)
		}
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	key := privacy.GenerateKey()
	for _, tt := range []struct {
		name string
		in   string
	}{
		{"Hex", hex.EncodeToString(key)},
		{"HexUpper", strings.ToUpper(hex.EncodeToString(key))},
		{"HexSpace", "  " + hex.EncodeToString(key) + "\n"},
		{"Base64", base64.StdEncoding.EncodeToString(key)},
		{"Base64Raw", base64.RawStdEncoding.EncodeToString(key)},
		{"Base64URL", base64.URLEncoding.EncodeToString(key)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := privacy.ParseKey(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, key) {
				t.Fatalf("ParseKey(%q)=%x, want %x", tt.in, got, key)
			}
		})
	}
	for _, bad := range []string{"", "short", hex.EncodeToString(key[:16]), base64.StdEncoding.EncodeToString(key[:31]),
		strings.Repeat("z", 64)} {
		if _, err := privacy.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) succeeded, want an error", bad)
		} else if !strings.Contains(err.Error(), "64 hex digits or base64 of 32 bytes") {
			t.Errorf("ParseKey(%q) error %q does not say what a key looks like", bad, err)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	a, b := privacy.GenerateKey(), privacy.GenerateKey()
	if len(a) != privacy.KeySize || bytes.Equal(a, b) {
		t.Fatalf("GenerateKey gave %x and %x, want two different %d-byte keys", a, b, privacy.KeySize)
	}
}
