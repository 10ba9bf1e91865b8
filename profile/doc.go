// Package profile keeps unified consumer profiles: declared attributes, traits computed
// from every channel's events (the events of every identity linked to a consumer count for
// them), and persona tags inferred from the traits, by rules in configuration or by
// classifiers learned from the consumers who declared an attribute.
//
//	s := profile.NewService()
//	s.Events, s.Users, s.Identities, s.Items, s.Profiles, s.Models, s.Bus = …
//	err := s.Open(ctx)           // loads the catalogue, follows the bus, refreshes statistics
//	p, err := s.FindProfileByUserID(ctx, "u-1")
//	rep, err := s.TrainPersonas(ctx) // learned tags; also every Config.TrainEvery
//
// A profile is derived data: it is rebuilt from the event log when first asked for (and
// whenever a new identity is linked to the consumer), then kept current from the bus after
// each commit. Population statistics (the spend per item of each category's buyers, for
// price tiers; recency, frequency and money of all buyers, for RFM scores) are refreshed
// every Config.StatsEvery, reading only the purchases logged since the last refresh.
//
// A consumer who turned personalisation off is not profiled: their profile holds their
// declared attributes only, whatever events arrive. Tags a consumer deleted are filtered
// from every answer, so neither a rule nor a retrained classifier can give them back.
//
// The package imports the domain, and persona for the learned classifiers; it reaches
// storage only through the domain's interfaces.
package profile
