// Package eval is qianmian's offline evaluation: it reads interaction logs (CSV, and the
// public datasets in their own formats), splits them by a named protocol, tunes each model
// family on a validation split carved from train, and measures the tuned models on the test
// split with full ranking over every item.
//
//	src, err := eval.LoadDataset(dir, "movielens-100k")      // log, items, protocol
//	train, test := src.Protocol.Split(src.Log)
//	h := eval.NewHarness()
//	h.Protocol = src.Protocol                                  // carves validation from train
//	rep, err := h.Run(ctx, eval.Families(src.Items.Features()), train, test)
//	rep.WriteJSON(os.Stdout)
//
// The metrics are those of package model (NDCG, Recall, HitRate, MRR at k) averaged over
// the users with test items, plus catalogue coverage, training seconds and the heap a fit
// took. docs/quality.md states the protocol in full.
package eval
