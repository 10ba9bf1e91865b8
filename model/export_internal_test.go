package model

// Strongest exposes strongest to the external tests.
var Strongest = strongest
