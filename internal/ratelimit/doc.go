// Package ratelimit slows down credential guessing: it counts failed authentications per
// client address (API bearer tokens, SCIM tokens, UI sign-in) and blocks an address that failed
// too often, for every credential it presents, until its allowance refills.
//
// The state is a token bucket per address in memory, bounded in size: the process forgets the
// least recently failing addresses first. It is per process, so N replicas allow N times the
// limit; that still turns a guessing attack from millions of tries into a handful a minute.
package ratelimit
