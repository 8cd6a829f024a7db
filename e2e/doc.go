// Package e2e runs the real cairn binary, as users run it, and checks what
// they would check: durability across kill -9, a torn WAL tail, the README's
// examples, and the load tool against a live member. The tests build the
// binaries once (TestMain) and start members on loopback ports the OS picks.
package e2e
