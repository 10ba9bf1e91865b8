package storetest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/qianmian/qianmian"
)

func accessTests() []contractTest {
	return []contractTest{
		{"Keys/CreateThenFind", testKeysCreateThenFind},
		{"Keys/Unauthorized", testKeysUnauthorized},
		{"Keys/Revoke", testKeysRevoke},
		{"Models/Versions", testModelsVersions},
	}
}

func testKeysCreateThenFind(t *testing.T, s Stores) {
	ctx := t.Context()
	for _, p := range []qianmian.Principal{
		{Role: qianmian.RoleOperator},
		{Role: qianmian.RoleStore, ID: "s-a"},
		{Role: qianmian.RoleSupplier, ID: "sup-1"},
	} {
		key, token, err := s.Keys.CreateKey(ctx, p)
		must(t, err)
		if key.ID == "" || key.Principal != p || !key.CreatedAt.Equal(Now()) {
			t.Fatalf("CreateKey(%+v) gave %+v", p, key)
		}
		if !strings.Contains(token, key.ID) {
			t.Fatalf("token %q does not carry the key id %q", token, key.ID)
		}
		got, err := s.Keys.FindPrincipalByToken(ctx, token)
		must(t, err)
		if got != p {
			t.Fatalf("FindPrincipalByToken gave %+v, want %+v", got, p)
		}
	}
	_, _, err := s.Keys.CreateKey(ctx, qianmian.Principal{Role: qianmian.RoleStore})
	wantField(t, "CreateKey for a store without id", err, "id")
	_, _, err = s.Keys.CreateKey(ctx, qianmian.Principal{Role: "king", ID: "x"})
	wantField(t, "CreateKey for role king", err, "role")
}

func testKeysUnauthorized(t *testing.T, s Stores) {
	ctx := t.Context()
	_, token, err := s.Keys.CreateKey(ctx, qianmian.Principal{Role: qianmian.RoleStore, ID: "s-a"})
	must(t, err)
	// Change the last character of the secret, keeping the token's shape.
	last := token[len(token)-1]
	other := byte('0')
	if last == '0' {
		other = '1'
	}
	wrongSecret := token[:len(token)-1] + string(other)
	for _, bad := range []string{"", "qm_", "garbage", "Bearer " + token, token + "x", token[:len(token)-1],
		wrongSecret, strings.Replace(token, "_", "-", -1)} {
		_, err := s.Keys.FindPrincipalByToken(ctx, bad)
		wantCode(t, "FindPrincipalByToken("+bad+")", err, qianmian.EUNAUTHORIZED)
	}
}

func testKeysRevoke(t *testing.T, s Stores) {
	ctx := t.Context()
	key, token, err := s.Keys.CreateKey(ctx, qianmian.Principal{Role: qianmian.RoleSupplier, ID: "sup-1"})
	must(t, err)
	_, keep, err := s.Keys.CreateKey(ctx, qianmian.Principal{Role: qianmian.RoleSupplier, ID: "sup-1"})
	must(t, err)
	must(t, s.Keys.RevokeKey(ctx, key.ID))
	_, err = s.Keys.FindPrincipalByToken(ctx, token)
	wantCode(t, "FindPrincipalByToken of a revoked key", err, qianmian.EUNAUTHORIZED)
	if _, err := s.Keys.FindPrincipalByToken(ctx, keep); err != nil {
		t.Fatalf("revoking one key broke another: %v", err)
	}
	wantCode(t, "RevokeKey of an unknown key", s.Keys.RevokeKey(ctx, "nope"), qianmian.ENOTFOUND)
}

func testModelsVersions(t *testing.T, s Stores) {
	ctx := t.Context()
	_, err := s.Models.LatestModel(ctx, "cooccurrence")
	wantCode(t, "LatestModel before any save", err, qianmian.ENOTFOUND)

	for i, data := range [][]byte{[]byte("model-one"), {0, 1, 2, 255}} {
		m := &qianmian.ModelBlob{Name: "cooccurrence", Data: data, Metrics: `{"ndcg@10":0.21}`}
		must(t, s.Models.SaveModel(ctx, m))
		if want := int64(i + 1); m.Version != want {
			t.Fatalf("save %d got version %d, want %d", i+1, m.Version, want)
		}
	}
	other := &qianmian.ModelBlob{Name: "popularity", Data: []byte("p")}
	must(t, s.Models.SaveModel(ctx, other))
	if other.Version != 1 {
		t.Fatalf("first version of another model is %d, want 1", other.Version)
	}

	got, err := s.Models.LatestModel(ctx, "cooccurrence")
	must(t, err)
	if got.Name != "cooccurrence" || got.Version != 2 || !bytes.Equal(got.Data, []byte{0, 1, 2, 255}) ||
		got.Metrics != `{"ndcg@10":0.21}` || !got.CreatedAt.Equal(Now()) {
		t.Fatalf("LatestModel gave %+v (data %x)", got, got.Data)
	}
	err = s.Models.SaveModel(ctx, &qianmian.ModelBlob{Data: []byte("x")})
	wantField(t, "SaveModel without a name", err, "name")
}
