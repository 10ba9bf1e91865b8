// Package privacy protects consumers' personal data: field encryption at rest, and (in later
// work) consent policy, erasure and export.
package privacy
