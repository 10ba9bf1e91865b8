package qianmian

import (
	"context"
	"time"
)

// RecommendRequest asks for a ranking of one store's shop for one visitor.
type RecommendRequest struct {
	StoreID string
	// UserID is the visitor when known; Identity an anonymous visitor's identifier; both
	// empty for an unknown visitor, who gets the store's non-personalised ranking.
	UserID   string
	Identity *IdentityRef
	N        int
	Context  RequestContext
}

// RequestContext is the situation a ranking is asked for in.
type RequestContext struct {
	Channel      Channel
	LocationType LocationType
	At           time.Time // the moment to rank for; zero means now
}

// MaxRecommendations bounds N of a request.
const MaxRecommendations = 200

// Validate reports an EINVALID error naming the request parameter at fault, and fills N
// with 10 when zero.
func (r *RecommendRequest) Validate() error {
	if err := validID("store", r.StoreID); err != nil {
		return err
	}
	if r.UserID != "" {
		if err := validID("user", r.UserID); err != nil {
			return err
		}
	}
	if r.N == 0 {
		r.N = 10
	}
	if r.N < 1 || r.N > MaxRecommendations {
		return Invalid("n", "must be between 1 and %d", MaxRecommendations)
	}
	if r.Context.Channel != "" {
		if err := r.Context.Channel.Validate("channel"); err != nil {
			return err
		}
	}
	return r.Context.LocationType.Validate("location_type")
}

// ScoredItem is one ranked item with the reasons it was chosen, in words a person can read.
type ScoredItem struct {
	ItemID  string   `json:"item_id"`
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons"`
	// Sources names the candidate sources that proposed the item ("cooccurrence",
	// "store_popular"), for attribution.
	Sources []string `json:"sources,omitempty"`
}

// Recommendation is a ranking. RecID identifies it so later events (rec_id) can be
// attributed to it.
type Recommendation struct {
	RecID        string       `json:"rec_id"`
	Items        []ScoredItem `json:"items"`
	Personalized bool         `json:"personalized"`
	// ModelVersion is the version of the trained model the ranking used, 0 for none.
	ModelVersion int64 `json:"model_version"`
}

// Recommender ranks a store's shop.
type Recommender interface {
	// Recommend ranks the store's in-stock assortment for the visitor. ENOTFOUND if the
	// store does not exist; EINVALID for a bad request.
	Recommend(ctx context.Context, req RecommendRequest) (*Recommendation, error)
	// Similar ranks the store's in-stock items most like itemID. ENOTFOUND if the store or
	// item does not exist.
	Similar(ctx context.Context, storeID, itemID string, n int) (*Recommendation, error)
}

// ModelBlob is a serialised trained model.
type ModelBlob struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	Data      []byte    `json:"-"`
	Metrics   string    `json:"metrics,omitempty"` // JSON object of validation metrics
	CreatedAt time.Time `json:"created_at"`
}

// ModelStore keeps trained models so every node can load the newest.
type ModelStore interface {
	// SaveModel stores a new version of the named model and sets m.Version to it.
	SaveModel(ctx context.Context, m *ModelBlob) error
	// LatestModel returns the newest version of the named model; ENOTFOUND if none.
	LatestModel(ctx context.Context, name string) (*ModelBlob, error)
	// LatestModelVersion returns the newest version number of the named model without its
	// data, so a node can poll for a new model cheaply; ENOTFOUND if none.
	LatestModelVersion(ctx context.Context, name string) (int64, error)
}

// FieldCipher encrypts personal fields at rest.
type FieldCipher interface {
	// Encrypt returns the ciphertext of plaintext; an empty plaintext stays empty.
	Encrypt(plaintext string) ([]byte, error)
	// Decrypt returns the plaintext of ciphertext; an empty ciphertext gives "".
	Decrypt(ciphertext []byte) (string, error)
}
