package privacy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/qianmian/qianmian"
)

var _ qianmian.FieldCipher = (*Cipher)(nil)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

// version1 prefixes every ciphertext of this format: AES-256-GCM with a random 12-byte
// nonce. A later format (another algorithm, key rotation) gets another version byte, so old
// ciphertexts stay readable.
const version1 byte = 1

// Cipher encrypts personal fields with AES-256-GCM. A ciphertext is the version byte, the
// 12-byte nonce, and the sealed plaintext with its 16-byte tag; the version byte is also
// authenticated. A Cipher is safe for concurrent use.
type Cipher struct {
	aead cipher.AEAD
}

// NewCipher returns a Cipher for a 32-byte key.
func NewCipher(key []byte) (*Cipher, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("privacy: key must be %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("privacy: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("privacy: %w", err)
	}
	return &Cipher{aead: aead}, nil
}

// Encrypt returns the ciphertext of plaintext, different at every call; an empty plaintext
// gives an empty ciphertext.
func (c *Cipher) Encrypt(plaintext string) ([]byte, error) {
	if plaintext == "" {
		return nil, nil
	}
	ns := c.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+c.aead.Overhead())
	out[0] = version1
	_, _ = rand.Read(out[1:]) // crypto/rand.Read never fails; it crashes the program instead
	return c.aead.Seal(out, out[1:], []byte(plaintext), out[:1]), nil
}

// Decrypt returns the plaintext of ciphertext; an empty ciphertext gives "". It fails for a
// ciphertext that was altered, truncated, or sealed with another key.
func (c *Cipher) Decrypt(ciphertext []byte) (string, error) {
	if len(ciphertext) == 0 {
		return "", nil
	}
	if ciphertext[0] != version1 {
		return "", fmt.Errorf("privacy: unknown ciphertext version %d", ciphertext[0])
	}
	ns := c.aead.NonceSize()
	if len(ciphertext) < 1+ns+c.aead.Overhead() {
		return "", errors.New("privacy: ciphertext too short")
	}
	p, err := c.aead.Open(nil, ciphertext[1:1+ns], ciphertext[1+ns:], ciphertext[:1])
	if err != nil {
		return "", errors.New("privacy: ciphertext altered or sealed with another key")
	}
	return string(p), nil
}

// ParseKey decodes a key given as 64 hex digits or as base64 (standard or URL alphabet,
// padded or not) of 32 bytes. Surrounding space is ignored.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("privacy: an encryption key must be %d hex digits or base64 of %d bytes "+
		"(got %d characters); generate one with `openssl rand -hex 32`", 2*KeySize, KeySize, len(s))
}

// GenerateKey returns a new random 32-byte key.
func GenerateKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k) // crypto/rand.Read never fails; it crashes the program instead
	return k
}
