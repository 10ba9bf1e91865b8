package profile_test

import (
	"strings"
	"testing"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/profile"
)

// officeWoman is a profile that meets the "urban white-collar woman" rule of the issue:
// perfume and cosmetics searches, western-food orders, an office address.
func officeWoman() *qianmian.Profile {
	return &qianmian.Profile{UserID: "u1", Personalization: true,
		Declared: qianmian.DeclaredAttributes{Gender: qianmian.GenderFemale, City: "Shanghai"},
		Traits: &qianmian.Traits{Events: 20,
			CategoryAffinity: map[string]float64{"beauty": 0.4, "beauty/fragrance": 0.25, "food": 0.3, "food/western": 0.2},
			LocationShares:   map[qianmian.LocationType]float64{qianmian.LocationOffice: 0.3, qianmian.LocationHome: 0.7},
			ChannelShares:    map[qianmian.Channel]float64{qianmian.ChannelApp: 1},
			SearchTerms:      map[string]float64{"perfume": 2.5, "lipstick": 1},
		}}
}

func TestRules_FireWithTheRuleAsReason(t *testing.T) {
	t.Parallel()
	rs, err := profile.CompileRules([]profile.Rule{{
		Tag: "office_beauty", Label: "urban white-collar woman", Confidence: 0.8,
		When: []string{
			"affinity(beauty) + affinity(food/western) >= 0.5",
			"location_share(office) >= 0.2",
			"city in [Shanghai, Beijing, \"Xi'an\"]",
		},
		Any:    []string{"searched(perfume) > 0", "searched(cosmetics) > 0"},
		Unless: []string{"gender == male"},
	}, {
		Tag: "gamer", When: []string{"affinity(electronics/gaming) >= 0.2"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tags := rs.Apply(officeWoman())
	if len(tags) != 1 {
		t.Fatalf("tags = %+v, want office_beauty only", tags)
	}
	got := tags[0]
	want := qianmian.ProfileTag{Name: "office_beauty", Label: "urban white-collar woman", Source: qianmian.TagSourceRule,
		Rule: "office_beauty", Confidence: 0.8,
		Reason: "rule office_beauty (urban white-collar woman): affinity(beauty) + affinity(food/western) = 0.6 (>= 0.5); " +
			"location_share(office) = 0.3 (>= 0.2); city = Shanghai (in Shanghai, Beijing, Xi'an); searched(perfume) = 2.5 (> 0)"}
	if got != want {
		t.Fatalf("tag\n got %+v\nwant %+v", got, want)
	}

	man := officeWoman()
	man.Declared.Gender = qianmian.GenderMale
	if tags := rs.Apply(man); len(tags) != 0 {
		t.Errorf("unless gender == male: tags %+v", tags)
	}
	noSearch := officeWoman()
	noSearch.Traits.SearchTerms = map[string]float64{}
	if tags := rs.Apply(noSearch); len(tags) != 0 {
		t.Errorf("no search of any: tags %+v", tags)
	}
	off := officeWoman()
	off.Traits = nil // personalisation off: no traits, no rule holds on them
	if tags := rs.Apply(off); len(tags) != 0 {
		t.Errorf("without traits: tags %+v", tags)
	}
}

func TestRules_WeightsAndBooleans(t *testing.T) {
	t.Parallel()
	rs, err := profile.CompileRules([]profile.Rule{
		{Tag: "weighted", When: []string{"0.5 * affinity(beauty) + 2 * affinity(food/western) >= 0.6"}},
		{Tag: "tagged", When: []string{"tag(gender_female)"}},
		{Tag: "not_male", When: []string{"gender != male", "personalization == true"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := officeWoman()
	p.Tags = []qianmian.ProfileTag{{Name: "gender_female", Source: qianmian.TagSourceModel}}
	var names []string
	for _, tag := range rs.Apply(p) {
		names = append(names, tag.Name)
	}
	if strings.Join(names, ",") != "weighted,tagged,not_male" {
		t.Fatalf("tags %v, want weighted, tagged, not_male", names)
	}
}

func TestRules_CompileErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		rule profile.Rule
		want string
	}{
		{profile.Rule{Tag: "Bad Tag", When: []string{"events > 1"}}, "rules[0].tag"},
		{profile.Rule{Tag: "x"}, "no conditions"},
		{profile.Rule{Tag: "x", When: []string{"affinity(beauty) >="}}, "expected a word"},
		{profile.Rule{Tag: "x", When: []string{"affinity(beauty >= 1"}}, "expected , or )"},
		{profile.Rule{Tag: "x", When: []string{"affinity(a) + affinity(b)"}}, "a sum needs a comparison"},
		{profile.Rule{Tag: "x", When: []string{"city >= Shanghai"}}, ">= compares numbers"},
		{profile.Rule{Tag: "x", When: []string{"city in Shanghai"}}, "in needs a [list]"},
		{profile.Rule{Tag: "x", When: []string{"events > 1 extra"}}, "unexpected"},
		{profile.Rule{Tag: "x", Any: []string{"events > 1"}, MinAny: 2}, "min_any 2 of 1"},
	} {
		_, err := profile.CompileRules([]profile.Rule{tt.rule})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CompileRules(%+v) = %v, want an error containing %q", tt.rule, err, tt.want)
		}
	}
	_, err := profile.CompileRules([]profile.Rule{{Tag: "x", When: []string{"events > 1"}}, {Tag: "x", When: []string{"events > 2"}}})
	if err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a repeated tag: %v", err)
	}
	if _, err := profile.CompileRules(profile.DefaultRules()); err != nil {
		t.Errorf("the default rules: %v", err)
	}
}

func TestReadRules(t *testing.T) {
	t.Parallel()
	rules, err := profile.ReadRules(strings.NewReader(`{"rules": [
		{"tag": "parent", "label": "young parent", "when": ["affinity(baby) >= 0.15"], "confidence": 0.9}]}`))
	if err != nil || len(rules) != 1 || rules[0].Tag != "parent" || rules[0].Confidence != 0.9 {
		t.Fatalf("ReadRules = %+v, %v", rules, err)
	}
	if _, err := profile.ReadRules(strings.NewReader(`{"rules": [{"tag": "p", "wen": ["events > 1"]}]}`)); err == nil {
		t.Error("ReadRules took an unknown field")
	}
}
