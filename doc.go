// Package qianmian is the domain vocabulary of qianmian (千面), the people–goods matching
// engine of an S2b2c supply platform: suppliers (S) supply goods that thousands of small
// stores (b) resell to their consumers (c).
//
// This package holds the types (Supplier, Store, Item, Assortment, User, Identity, Event,
// Recommendation, Principal), the service interfaces that storage, bus and engine packages
// implement, and the one error type with codes. It imports the standard library only.
package qianmian
