package eval

import (
	"fmt"
	"strings"

	"github.com/qianmian/qianmian/model"
)

// Families returns every model family the harness knows, in report order. features are the
// catalogue's item attributes (Items.Features; never nil, possibly empty) for families that
// use them. To evaluate a new family, add one line here.
func Families(features *model.ItemFeatures) []model.Family {
	return []model.Family{
		model.PopularityFamily(),
		model.ItemKNNFamily(),
		model.IALSFamily(),
		model.EASEFamily(),
		model.SequentialFamily(),
		model.ContentFamily(features),
		// The hybrid leaves EASE out: O(n³) per fit, and it fits its bases twice.
		model.HybridFamily([]model.Family{model.PopularityFamily(), model.ItemKNNFamily(),
			model.IALSFamily(), model.SequentialFamily()}, features),
	}
}

// FamilyNames returns the names of the families, in report order.
func FamilyNames() []string {
	var names []string
	for _, f := range Families(new(Items).Features()) {
		names = append(names, f.Name)
	}
	return names
}

// SelectFamilies returns the families named in list (comma-separated, "all" for every one),
// in the order given, over features. An unknown name is an error that lists the known ones.
func SelectFamilies(list string, features *model.ItemFeatures) ([]model.Family, error) {
	all := Families(features)
	if strings.TrimSpace(list) == "all" {
		return all, nil
	}
	var out []model.Family
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		found := false
		for _, f := range all {
			if f.Name == name {
				out = append(out, f)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown model %q: want all or some of %s", name, strings.Join(FamilyNames(), ", "))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no model named: want all or some of %s", strings.Join(FamilyNames(), ", "))
	}
	return out, nil
}
