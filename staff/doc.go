// Package staff is what hotline staff use all day: a JSON API under
// /api/v1 and a server-rendered web console under /console, both in front of
// the case log.
//
// # Authentication
//
// Every /api/v1 request carries a staff token as "Authorization: Bearer
// <token>". The token is checked before anything else (before routing,
// before the body is read), so an unauthenticated client learns nothing,
// not even whether a path exists. Tokens are compared in constant time over
// their SHA-256 sums, which also hides their length. The token's name is the
// actor of every event and audit entry the request writes.
//
// The console signs in with the same tokens. The browser then holds only a
// random session id in an HttpOnly, SameSite=Strict cookie scoped to
// /console; the token never leaves the sign-in request. Sessions live in
// memory and end with the process. Every console form carries a per-session
// CSRF token; the sign-in form, which has no session yet, uses a
// double-submit cookie.
//
// # Privacy
//
// Every look-up of a caller and every view of a case writes an audit entry
// in the same transaction that reads the data, so data is never shown
// without its audit entry. Admin tokens may read the trail. Logs carry
// numbers only through phone.Mask and never a token.
package staff
