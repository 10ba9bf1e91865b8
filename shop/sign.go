package shop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
)

// Headers of a webhook delivery. The body is the alert's JSON (qianmian.StoreAlert).
//
// The signature is "sha256=" followed by the lower-case hex HMAC-SHA256, keyed with the
// webhook's secret, of the timestamp header's value, a ".", and the body's bytes exactly as
// received. The timestamp is Unix seconds at the attempt, so each retry is signed afresh.
// A receiver should check the signature with Verify before parsing the body, may refuse
// timestamps more than a few minutes old (replays), and must treat deliveries as
// at-least-once: the same alert (same X-Qianmian-Alert-Id) can arrive twice, for instance
// when the server stops between the receiver's 2xx and its record of it.
const (
	HeaderSignature = "X-Qianmian-Signature"
	HeaderTimestamp = "X-Qianmian-Timestamp"
	HeaderAlertID   = "X-Qianmian-Alert-Id"
)

// signaturePrefix names the algorithm of a signature, so another can be added later.
const signaturePrefix = "sha256="

// ErrBadSignature is Verify's answer for a signature that does not match.
var ErrBadSignature = errors.New("shop: webhook signature does not match")

// Sign returns the X-Qianmian-Signature value of body sent at timestamp.
func Sign(secret, timestamp string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a webhook delivery: signature must be Sign(secret, timestamp, body) and the
// timestamp Unix seconds. It compares in constant time and returns ErrBadSignature (or an
// error about the malformed header) when the delivery is not authentic.
func Verify(secret, timestamp string, body []byte, signature string) error {
	if _, err := strconv.ParseInt(timestamp, 10, 64); err != nil {
		return errors.New("shop: webhook timestamp is not Unix seconds")
	}
	hexSig, ok := strings.CutPrefix(signature, signaturePrefix)
	if !ok {
		return errors.New("shop: webhook signature does not start with sha256=")
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return ErrBadSignature
	}
	if !hmac.Equal(got, mac(secret, timestamp, body)) {
		return ErrBadSignature
	}
	return nil
}
