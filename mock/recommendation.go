package mock

import (
	"context"

	"github.com/qianmian/qianmian"
)

var (
	_ qianmian.Recommender = (*Recommender)(nil)
	_ qianmian.ModelStore  = (*ModelStore)(nil)
	_ qianmian.FieldCipher = (*FieldCipher)(nil)
)

// Recommender is a mock of qianmian.Recommender.
type Recommender struct {
	RecommendFn func(ctx context.Context, req qianmian.RecommendRequest) (*qianmian.Recommendation, error)
	SimilarFn   func(ctx context.Context, storeID, itemID string, n int) (*qianmian.Recommendation, error)
}

// Recommend calls RecommendFn.
func (r *Recommender) Recommend(ctx context.Context, req qianmian.RecommendRequest) (*qianmian.Recommendation, error) {
	return r.RecommendFn(ctx, req)
}

// Similar calls SimilarFn.
func (r *Recommender) Similar(ctx context.Context, storeID, itemID string, n int) (*qianmian.Recommendation, error) {
	return r.SimilarFn(ctx, storeID, itemID, n)
}

// ModelStore is a mock of qianmian.ModelStore.
type ModelStore struct {
	SaveModelFn          func(ctx context.Context, m *qianmian.ModelBlob) error
	LatestModelFn        func(ctx context.Context, name string) (*qianmian.ModelBlob, error)
	LatestModelVersionFn func(ctx context.Context, name string) (int64, error)
}

// SaveModel calls SaveModelFn.
func (s *ModelStore) SaveModel(ctx context.Context, m *qianmian.ModelBlob) error {
	return s.SaveModelFn(ctx, m)
}

// LatestModel calls LatestModelFn.
func (s *ModelStore) LatestModel(ctx context.Context, name string) (*qianmian.ModelBlob, error) {
	return s.LatestModelFn(ctx, name)
}

// LatestModelVersion calls LatestModelVersionFn.
func (s *ModelStore) LatestModelVersion(ctx context.Context, name string) (int64, error) {
	return s.LatestModelVersionFn(ctx, name)
}

// FieldCipher is a mock of qianmian.FieldCipher.
type FieldCipher struct {
	EncryptFn func(plaintext string) ([]byte, error)
	DecryptFn func(ciphertext []byte) (string, error)
}

// Encrypt calls EncryptFn.
func (c *FieldCipher) Encrypt(plaintext string) ([]byte, error) { return c.EncryptFn(plaintext) }

// Decrypt calls DecryptFn.
func (c *FieldCipher) Decrypt(ciphertext []byte) (string, error) { return c.DecryptFn(ciphertext) }
