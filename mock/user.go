package mock

import (
	"context"

	"github.com/qianmian/qianmian"
)

var (
	_ qianmian.UserService     = (*UserService)(nil)
	_ qianmian.IdentityService = (*IdentityService)(nil)
	_ qianmian.KeyService      = (*KeyService)(nil)
)

// UserService is a mock of qianmian.UserService.
type UserService struct {
	UpsertUsersFn   func(ctx context.Context, users []*qianmian.User) error
	FindUserByIDFn  func(ctx context.Context, id string) (*qianmian.User, error)
	FindUsersFn     func(ctx context.Context, page qianmian.Page) ([]*qianmian.User, error)
	FindRefusalsFn  func(ctx context.Context, purpose qianmian.ConsentPurpose) ([]string, error)
	PersonalizesFn  func(ctx context.Context, id string) (bool, error)
	UpdateConsentFn func(ctx context.Context, id string, upd qianmian.ConsentUpdate) (*qianmian.User, error)
}

// UpsertUsers calls UpsertUsersFn.
func (s *UserService) UpsertUsers(ctx context.Context, users []*qianmian.User) error {
	return s.UpsertUsersFn(ctx, users)
}

// FindUserByID calls FindUserByIDFn.
func (s *UserService) FindUserByID(ctx context.Context, id string) (*qianmian.User, error) {
	return s.FindUserByIDFn(ctx, id)
}

// Personalizes calls PersonalizesFn.
func (s *UserService) Personalizes(ctx context.Context, id string) (bool, error) {
	return s.PersonalizesFn(ctx, id)
}

// FindUsers calls FindUsersFn.
func (s *UserService) FindUsers(ctx context.Context, page qianmian.Page) ([]*qianmian.User, error) {
	return s.FindUsersFn(ctx, page)
}

// FindRefusals calls FindRefusalsFn.
func (s *UserService) FindRefusals(ctx context.Context, purpose qianmian.ConsentPurpose) ([]string, error) {
	return s.FindRefusalsFn(ctx, purpose)
}

// UpdateConsent calls UpdateConsentFn.
func (s *UserService) UpdateConsent(ctx context.Context, id string, upd qianmian.ConsentUpdate) (*qianmian.User, error) {
	return s.UpdateConsentFn(ctx, id, upd)
}

// IdentityService is a mock of qianmian.IdentityService.
type IdentityService struct {
	LinkIdentityFn    func(ctx context.Context, ref qianmian.IdentityRef, userID string) error
	ResolveIdentityFn func(ctx context.Context, ref qianmian.IdentityRef) (string, error)
	FindIdentitiesFn  func(ctx context.Context, userID string) ([]*qianmian.Identity, error)
	IdentityGraphFn   func(ctx context.Context, userID string) (*qianmian.IdentityGraph, error)
	UnlinkIdentityFn  func(ctx context.Context, ref qianmian.IdentityRef, userID, reason string) error
}

// LinkIdentity calls LinkIdentityFn.
func (s *IdentityService) LinkIdentity(ctx context.Context, ref qianmian.IdentityRef, userID string) error {
	return s.LinkIdentityFn(ctx, ref, userID)
}

// ResolveIdentity calls ResolveIdentityFn.
func (s *IdentityService) ResolveIdentity(ctx context.Context, ref qianmian.IdentityRef) (string, error) {
	return s.ResolveIdentityFn(ctx, ref)
}

// FindIdentities calls FindIdentitiesFn.
func (s *IdentityService) FindIdentities(ctx context.Context, userID string) ([]*qianmian.Identity, error) {
	return s.FindIdentitiesFn(ctx, userID)
}

// IdentityGraph calls IdentityGraphFn.
func (s *IdentityService) IdentityGraph(ctx context.Context, userID string) (*qianmian.IdentityGraph, error) {
	return s.IdentityGraphFn(ctx, userID)
}

// UnlinkIdentity calls UnlinkIdentityFn.
func (s *IdentityService) UnlinkIdentity(ctx context.Context, ref qianmian.IdentityRef, userID, reason string) error {
	return s.UnlinkIdentityFn(ctx, ref, userID, reason)
}

// KeyService is a mock of qianmian.KeyService.
type KeyService struct {
	CreateKeyFn            func(ctx context.Context, p qianmian.Principal) (*qianmian.APIKey, string, error)
	FindPrincipalByTokenFn func(ctx context.Context, token string) (qianmian.Principal, error)
	RevokeKeyFn            func(ctx context.Context, id string) error
}

// CreateKey calls CreateKeyFn.
func (s *KeyService) CreateKey(ctx context.Context, p qianmian.Principal) (*qianmian.APIKey, string, error) {
	return s.CreateKeyFn(ctx, p)
}

// FindPrincipalByToken calls FindPrincipalByTokenFn.
func (s *KeyService) FindPrincipalByToken(ctx context.Context, token string) (qianmian.Principal, error) {
	return s.FindPrincipalByTokenFn(ctx, token)
}

// RevokeKey calls RevokeKeyFn.
func (s *KeyService) RevokeKey(ctx context.Context, id string) error {
	return s.RevokeKeyFn(ctx, id)
}
