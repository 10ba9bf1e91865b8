package sqlite_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/sqlite"
)

// BenchmarkEventService_FindEventsByUser reads one user's events (20,000 users, ~10 events
// each): whole, and brief (EventFilter.Brief), as the engine does for a visitor new to the
// process, from the user index alone.
func BenchmarkEventService_FindEventsByUser(b *testing.B) {
	db := mustOpen(b, newDB(b, nil))
	s := sqlite.NewEventService(db)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		if _, err := s.CreateEvents(b.Context(), benchEvents(rng, i, 10_000)); err != nil {
			b.Fatal(err)
		}
	}
	for _, brief := range []bool{false, true} {
		b.Run(map[bool]string{false: "whole", true: "brief"}[brief], func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				list, err := s.FindEvents(b.Context(), qianmian.EventFilter{UserID: "user-" + strconv.Itoa(rng.IntN(20_000)), Brief: brief})
				if err != nil {
					b.Fatal(err)
				}
				n += len(list)
			}
			b.ReportMetric(float64(n)/float64(b.N), "events/op")
		})
	}
}

// BenchmarkUserService_Refusals learns who refused analytics among 20,000 users (one in
// ten refused), as the profile statistics refresh and training do: with FindRefusals, and
// by paging through FindUsers, which reads and decrypts every user's personal fields.
func BenchmarkUserService_Refusals(b *testing.B) {
	const users, refusing = 20_000, 2_000
	db := mustOpen(b, newDB(b, nil))
	s := sqlite.NewUserService(db)
	batch := make([]*qianmian.User, 0, 1000)
	for i := range users {
		c := qianmian.DefaultConsent()
		c.Analytics = i%(users/refusing) != 0
		batch = append(batch, &qianmian.User{ID: fmt.Sprintf("user-%06d", i), Gender: qianmian.GenderFemale,
			BirthYear: 1990, City: "Shanghai", Consent: c, Name: "李小梅", Phone: "+86 138 0013 8000",
			Address: "上海市静安区南京西路 1 号"})
		if len(batch) == cap(batch) {
			if err := s.UpsertUsers(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	check := func(b *testing.B, n int) {
		if n != refusing {
			b.Fatalf("found %d users refusing analytics, want %d", n, refusing)
		}
	}
	b.Run("FindRefusals", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ids, err := s.FindRefusals(b.Context(), qianmian.PurposeAnalytics)
			if err != nil {
				b.Fatal(err)
			}
			check(b, len(ids))
		}
	})
	b.Run("FindUsersPaged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			page := qianmian.Page{Limit: 1000}
			for {
				list, err := s.FindUsers(b.Context(), page)
				if err != nil {
					b.Fatal(err)
				}
				for _, u := range list {
					if !u.Consent.Analytics {
						n++
					}
				}
				if len(list) < page.Limit {
					break
				}
				page.After = list[len(list)-1].ID
			}
			check(b, n)
		}
	})
}
