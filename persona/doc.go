// Package persona infers consumer attributes that people did not declare (gender, age
// band, children at home, income band) from what they did, with calibrated confidence,
// by learning from the consumers who did declare them.
//
//	feat := &persona.Featurizer{Config: persona.DefaultFeatureConfig()}
//	feat.Fit(ctx, histories, catalog)                 // vocabulary, IDF, SVD, scales
//	clf := &persona.Classifier{}
//	clf.Fit(ctx, feat.TransformAll(declared), labels, []string{"no", "yes"})
//	class, probs := clf.Predict(feat.Transform(history))
//
// Train does both for several targets at once and returns a Model with one artefact
// (WriteTo/ReadFrom); CrossValidate measures a target out of fold.
//
// The Featurizer turns a history (items, weights such as ratings, times, amounts, context
// tokens) and the items' attribute tokens into a sparse vector of weighted blocks: the
// items themselves (TF-IDF), centred weights (liked and disliked), attribute and context
// shares (genres, departments, price tiers, stores), a truncated SVD taste embedding,
// activity, and time of day and week. The Classifier is an L2-penalised multinomial
// logistic regression fitted by L-BFGS, its penalty chosen by stratified inner
// cross-validation on the calibrated log loss, and its scores calibrated on the same
// out-of-fold predictions (temperature and per-class offsets: Platt scaling for two
// classes).
//
// Everything is deterministic for its inputs and seeds, whatever the number of workers.
// The package imports the standard library and gonum only.
package persona
