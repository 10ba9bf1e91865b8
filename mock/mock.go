// Package mock holds function-field mocks of the qianmian service interfaces, for tests of
// their consumers (http, recommend). Set the Fn fields a test needs; calling a method whose
// Fn is nil panics, which names the call the test did not expect.
package mock
