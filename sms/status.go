package sms

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/internal/twiliohttp"
)

// RouteSMSStatus is where Twilio posts outbound message status callbacks
// (the StatusCallback the sender gives every message).
const RouteSMSStatus = "/twilio/sms/status"

// StatusHandler records outbound message status callbacks.
type StatusHandler struct {
	Log    *caselog.Log
	Logger *slog.Logger
}

// RegisterStatus adds POST RouteSMSStatus to r, behind whatever middleware r
// carries (the twiliohttp signature check).
func RegisterStatus(r gin.IRoutes, l *caselog.Log, logger *slog.Logger) {
	h := &StatusHandler{Log: l, Logger: logger}
	r.POST(RouteSMSStatus, h.Handle)
}

// emptyTwiML is the answer to every callback: Twilio ignores it, but a 200
// with a TwiML body keeps its debugger quiet.
var emptyTwiML = func() []byte {
	s, err := twiml.Messages(nil)
	if err != nil {
		panic(err)
	}
	return []byte(s)
}()

// Handle records one callback. Several arrive for one message (queued,
// sent, delivered…); each is appended to the message's delivery history in
// the order the log commits them. A callback for a message we do not know
// (sent by another system on the account, or from before a restore) answers
// 200 all the same: anything else makes Twilio retry it for nothing.
func (h *StatusHandler) Handle(c *gin.Context) {
	logger := h.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("comp", "sms")
	var f twiliohttp.StatusForm
	if err := twiliohttp.Decode(c.Request, &f); err != nil {
		logger.Warn("sms status callback rejected", "error", err)
		c.Data(http.StatusBadRequest, "text/plain; charset=utf-8", []byte("bad status callback: "+err.Error()+"\n"))
		return
	}
	attrs := []any{"message_sid", f.MessageSid, "status", f.MessageStatus}
	if f.ErrorCode != "" && f.ErrorCode != "0" {
		attrs = append(attrs, "error_code", f.ErrorCode)
	} else {
		f.ErrorCode = ""
	}
	var m caselog.Message
	err := h.Log.Update(c.Request.Context(), func(tx *caselog.Tx) error {
		var err error
		m, err = tx.Delivery(f.MessageSid, caselog.DeliveryUpdate{Status: f.MessageStatus, ErrorCode: f.ErrorCode})
		return err
	})
	switch {
	case errors.Is(err, caselog.ErrNotFound):
		logger.Warn("sms status for an unknown message", attrs...)
	case err != nil:
		// 500: Twilio retries, and the callback is not lost.
		logger.Error("sms status not recorded", append(attrs, "error", err)...)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("status not recorded\n"))
		return
	default:
		attrs = append(attrs, "message_id", m.ID, "case", m.Case, "state", m.State)
		if m.State == caselog.MsgFailed {
			logger.Warn("sms not delivered", attrs...)
		} else {
			logger.Info("sms status", attrs...)
		}
	}
	c.Data(http.StatusOK, "text/xml; charset=utf-8", emptyTwiML)
}
