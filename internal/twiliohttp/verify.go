// Package twiliohttp holds what the ivr and sms webhooks share: the middleware
// that decides whether a request really comes from Twilio, the signer that
// tests and the simulator use to sign like Twilio does, and typed decoding of
// Twilio's form posts.
package twiliohttp

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/twilio/twilio-go/client"
)

// MaxBodyBytes bounds a webhook body. Twilio's largest posts (an SMS with ten
// media URLs and every geo field) are a few KiB.
const MaxBodyBytes = 64 << 10

// SignatureHeader is the header Twilio signs its requests with.
const SignatureHeader = "X-Twilio-Signature"

// Failure reasons passed to Verifier.OnFailure; stable, short, fit for a
// metric label.
const (
	ReasonMissingSignature = "missing_signature"
	ReasonInvalidSignature = "invalid_signature"
	ReasonNotLoopback      = "not_loopback"
	ReasonBodyTooLarge     = "body_too_large"
	ReasonMalformedForm    = "malformed_form"
)

// Verifier admits webhook requests. Exactly one of three modes applies:
//
//   - Insecure: everything is admitted (explicit local development switch).
//   - AuthToken == "" (local mode): only requests from a loopback address.
//   - otherwise: only requests with a valid X-Twilio-Signature over
//     PublicURL + path + query and the POST form parameters.
//
// In every mode the body is limited to MaxBodyBytes and the form is parsed
// once, so handlers read c.Request.PostForm (or use Decode).
type Verifier struct {
	AuthToken string
	PublicURL string // base URL Twilio calls, e.g. https://hotline.example.org
	Insecure  bool
	Logger    *slog.Logger
	// OnFailure, if set, is called with one of the Reason constants for every
	// rejected request (a metrics hook).
	OnFailure func(reason string)
}

// Middleware returns the gin handler enforcing v. Rejections answer with a
// short plain-text reason and abort the chain.
func (v *Verifier) Middleware() gin.HandlerFunc {
	logger := v.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// The settings are read once: changing v later does not change a
	// middleware already installed.
	base := strings.TrimRight(v.PublicURL, "/")
	insecure, onFailure := v.Insecure, v.OnFailure
	localMode := !insecure && v.AuthToken == ""
	checkSignature := !insecure && v.AuthToken != ""
	validator := client.NewRequestValidator(v.AuthToken)

	return func(c *gin.Context) {
		r := c.Request
		reject := func(status int, reason, text string) {
			logger.Warn("webhook rejected", "reason", reason, "path", r.URL.Path, "remote_addr", r.RemoteAddr, "status", status)
			if onFailure != nil {
				onFailure(reason)
			}
			c.Data(status, "text/plain; charset=utf-8", []byte(text+"\n"))
			c.Abort()
		}

		if r.ContentLength > MaxBodyBytes {
			reject(http.StatusRequestEntityTooLarge, ReasonBodyTooLarge, "request body too large")
			return
		}
		if localMode && !isLoopback(r.RemoteAddr) {
			reject(http.StatusForbidden, ReasonNotLoopback, "local mode accepts webhooks only from loopback")
			return
		}
		signature := r.Header.Get(SignatureHeader)
		if checkSignature && signature == "" {
			reject(http.StatusForbidden, ReasonMissingSignature, "missing "+SignatureHeader)
			return
		}

		if r.Body != nil {
			r.Body = http.MaxBytesReader(c.Writer, r.Body, MaxBodyBytes)
		}
		if err := r.ParseForm(); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				reject(http.StatusRequestEntityTooLarge, ReasonBodyTooLarge, "request body too large")
				return
			}
			reject(http.StatusBadRequest, ReasonMalformedForm, "malformed form body")
			return
		}

		if checkSignature {
			// Twilio signs the URL it was configured with, which is the
			// public one even when a TLS-terminating proxy hands us plain
			// HTTP on another host. RequestValidator also tries the URL with
			// and without the scheme's default port (:443 / :80), which
			// Twilio's own signing is inconsistent about.
			u := base + r.URL.EscapedPath()
			if r.URL.RawQuery != "" {
				u += "?" + r.URL.RawQuery
			}
			if !validator.Validate(u, firstValues(r.PostForm), signature) {
				reject(http.StatusForbidden, ReasonInvalidSignature, "invalid "+SignatureHeader)
				return
			}
		}
		c.Next()
	}
}

// isLoopback reports whether a RemoteAddr ("ip:port") is a loopback address.
// Forwarding headers are deliberately ignored: anyone can write them.
func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return addr.Unmap().IsLoopback()
}

// firstValues gives RequestValidator its map form; Twilio never repeats a
// parameter, and twilio-go signs and checks the first value only.
func firstValues(form url.Values) map[string]string {
	m := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) > 0 {
			m[k] = vs[0]
		}
	}
	return m
}

// Sign returns the X-Twilio-Signature Twilio would send for a POST of params
// to fullURL: base64 HMAC-SHA1, keyed with the auth token, of the URL followed
// by each parameter name and value in name order. Like twilio-go's validator
// it uses the first value of a repeated parameter.
func Sign(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k, vs := range params {
		if len(vs) > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	for _, k := range keys {
		mac.Write([]byte(k))
		mac.Write([]byte(params[k][0]))
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
