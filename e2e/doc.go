// Package e2e runs the real cairn binary, as users run it, and checks what
// they would check: durability across kill -9, a torn WAL tail, the README's
// examples, the load tool against a live member, and the dashboard in
// Debian's chromium driven over CDP (chromedp; browser_test.go records
// console errors and any request outside the member, ui_test.go is the user's
// walk through it). The tests build the binaries once (TestMain) and start
// members on loopback ports the OS picks.
package e2e
