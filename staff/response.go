package staff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/hotline/hotline/caselog"
)

// Errors of this package's own; caselog's sentinels cover the rest.
var (
	errUnauthorized = errors.New("missing or invalid staff token")
	errForbidden    = errors.New("this needs an admin token")
	errBadRequest   = errors.New("bad request")
	errNoRoute      = errors.New("no such API route")
	errNoMethod     = errors.New("method not allowed on this route")
	errCSRF         = errors.New("form expired or forged (CSRF token missing or wrong); reload the page")
	errNoSession    = errors.New("not signed in")
	errBadToken     = errors.New("令牌无效 That token is not a staff token")
)

// apiError is every error body: {"error": "..."}, plus the legal moves of
// an illegal transition and the accepted values of a bad enum.
type apiError struct {
	Error string           `json:"error"`
	Legal []caselog.Status `json:"legal,omitzero"`
	Valid []string         `json:"valid,omitzero"`
}

// validError is a bad value with the values that would have been accepted.
type validError struct {
	msg   string
	valid []string
}

func (e *validError) Error() string { return e.msg }
func (e *validError) Unwrap() error { return errBadRequest }

// problem maps an error to the status and body staff see. It is the one
// place that decides status codes: bad input is always a 4xx, and only a
// failure of ours is a 5xx, whose cause goes to the log, not to the client.
func problem(err error) (int, apiError) {
	var ite *caselog.IllegalTransitionError
	var ve *validError
	switch {
	case errors.As(err, &ite):
		legal := ite.Legal
		if legal == nil {
			legal = []caselog.Status{}
		}
		return http.StatusConflict, apiError{Error: ite.Error(), Legal: legal}
	case errors.As(err, &ve):
		return http.StatusBadRequest, apiError{Error: ve.msg, Valid: ve.valid}
	case errors.Is(err, errUnauthorized), errors.Is(err, errNoSession), errors.Is(err, errBadToken):
		return http.StatusUnauthorized, apiError{Error: err.Error()}
	case errors.Is(err, errForbidden), errors.Is(err, errCSRF):
		return http.StatusForbidden, apiError{Error: err.Error()}
	case errors.Is(err, errNoRoute):
		return http.StatusNotFound, apiError{Error: err.Error()}
	case errors.Is(err, errNoMethod):
		return http.StatusMethodNotAllowed, apiError{Error: err.Error()}
	case errors.Is(err, errBadRequest), errors.Is(err, caselog.ErrBadNumber),
		errors.Is(err, caselog.ErrBadCaller), errors.Is(err, caselog.ErrInvalid):
		return http.StatusBadRequest, apiError{Error: err.Error()}
	case errors.Is(err, caselog.ErrNotFound):
		return http.StatusNotFound, apiError{Error: err.Error()}
	case errors.Is(err, caselog.ErrClaimed), errors.Is(err, caselog.ErrDone):
		return http.StatusConflict, apiError{Error: err.Error()}
	case errors.Is(err, caselog.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, apiError{Error: "the case log is not available; try again"}
	}
	return http.StatusInternalServerError, apiError{Error: "internal error"}
}

// respond writes v as JSON and logs the request. Logs carry the route
// pattern (never the query, which may hold a caller's number), the status
// and the actor.
func (h *Handler) respond(c *gin.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		h.logger.Error("encode response", "route", c.FullPath(), "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "application/json; charset=utf-8", b)
	h.logRequest(c, status, nil)
}

// fail answers with the error's status and body.
func (h *Handler) fail(c *gin.Context, err error) {
	status, body := problem(err)
	b, _ := json.Marshal(body)
	c.Header("Cache-Control", "no-store")
	c.Data(status, "application/json; charset=utf-8", b)
	h.logRequest(c, status, err)
}

func (h *Handler) logRequest(c *gin.Context, status int, err error) {
	route := c.FullPath()
	if route == "" {
		route = "(no route)"
	}
	attrs := []slog.Attr{
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.Int("status", status),
	}
	if who := actor(c); who.Name != "" {
		attrs = append(attrs, slog.String("actor", who.Name))
	}
	if n := c.Param("number"); n != "" {
		attrs = append(attrs, slog.String("case_number", n))
	}
	level := slog.LevelInfo
	switch {
	case status >= 500:
		// Our failure: the cause is logged. caselog masks numbers in its
		// own errors.
		level = slog.LevelError
		attrs = append(attrs, slog.Any("err", err))
	case err != nil:
		// The client's mistake: which kind, not the text, which may echo
		// what they typed (a phone number).
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("reason", reasonOf(err)))
	}
	h.logger.LogAttrs(c.Request.Context(), level, "staff request", attrs...)
}

// reasonOf names the sentinel behind a client error, for logs.
func reasonOf(err error) string {
	for _, s := range []error{errUnauthorized, errBadToken, errForbidden, errCSRF, errNoSession, errNoRoute, errNoMethod, caselog.ErrIllegalTransition,
		caselog.ErrBadNumber, caselog.ErrBadCaller, caselog.ErrInvalid, caselog.ErrNotFound, caselog.ErrClaimed, caselog.ErrDone, errBadRequest} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "other"
}

// badNumber explains why text is not a case number, telling a mistyped
// number (its check digit does not match) from something else.
func badNumber(s string) error {
	digits := len(s) >= 6 && len(s) <= 12 && strings.Trim(s, "0123456789") == ""
	if digits {
		return fmt.Errorf("case number %q: the check digit is wrong (mistyped number?): %w", s, caselog.ErrBadNumber)
	}
	return fmt.Errorf("case number %q: a case number is 6 to 12 digits: %w", s, caselog.ErrBadNumber)
}
