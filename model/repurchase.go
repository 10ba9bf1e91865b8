package model

import (
	"cmp"
	"slices"
)

// Purchase is one purchase of an item in a category by a user, at a time in Unix seconds.
type Purchase struct {
	User     int32
	Category int32
	At       int64
}

// RepurchaseRates returns for each category c in [0, numCategories) the share of its buyers
// who bought in it again, and the number of buyers. A purchase counts as "again" when it
// comes at least minGap seconds after the user's previous counted purchase in the category,
// so two items in one basket are not a repurchase. Categories above a threshold (with
// enough buyers) are the ones people rebuy: groceries, consumables, refills.
func RepurchaseRates(purchases []Purchase, numCategories int, minGap int64) (rates []float32, buyers []int32) {
	ps := slices.Clone(purchases)
	slices.SortFunc(ps, func(a, b Purchase) int {
		if a.Category != b.Category {
			return cmp.Compare(a.Category, b.Category)
		}
		if a.User != b.User {
			return cmp.Compare(a.User, b.User)
		}
		return cmp.Compare(a.At, b.At)
	})
	rates = make([]float32, numCategories)
	buyers = make([]int32, numCategories)
	repeaters := make([]int32, numCategories)
	for k := 0; k < len(ps); {
		c, u := ps[k].Category, ps[k].User
		last, again := ps[k].At, false
		for k++; k < len(ps) && ps[k].Category == c && ps[k].User == u; k++ {
			if ps[k].At-last >= minGap {
				again = true
				last = ps[k].At
			}
		}
		if c < 0 || int(c) >= numCategories {
			continue
		}
		buyers[c]++
		if again {
			repeaters[c]++
		}
	}
	for c := range rates {
		if buyers[c] > 0 {
			rates[c] = float32(repeaters[c]) / float32(buyers[c])
		}
	}
	return rates, buyers
}
