// Package retrain is the training tool behind the shipped model (package
// shipped): it generates the corpus (Generate, from facts.Landmarks,
// facts.Countries, facts.Names and the mood words), trains a GPT-2 on it
// with govene's Adam trainer (Train, TrainConfig), writes the float16
// checkpoint (SaveF16) and measures what the model learned (Report, Brief,
// LastTokenCurve, ExactLoss), patching and steering through package pv.
//
// It is used by shipped/cmd/retrain:
//
//	go run ./shipped/cmd/retrain -out shipped/model
package retrain
