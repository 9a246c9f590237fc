package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hotline/hotline/internal/phone"
)

// accessLog writes one line per request: route, status, latency, the
// carrier's ids, and the caller masked. It also feeds the latency histogram.
// Bodies and tokens never reach the log.
func accessLog(log *slog.Logger, m *metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		lat := time.Since(start)
		m.latency.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Observe(lat.Seconds())
		attrs := []slog.Attr{
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("latency_ms", float64(lat.Microseconds())/1000),
		}
		// Only read a form a handler already parsed: parsing here would read
		// bodies of routes that never wanted them.
		if f := c.Request.PostForm; f != nil {
			for _, k := range []string{"CallSid", "MessageSid", "RecordingSid"} {
				if v := f.Get(k); v != "" {
					attrs = append(attrs, slog.String(snake(k), v))
				}
			}
			if from := f.Get("From"); from != "" {
				attrs = append(attrs, slog.String("from", phone.Mask(from)))
			}
		}
		if len(c.Errors) > 0 {
			attrs = append(attrs, slog.String("error", c.Errors.String()))
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(c.Request.Context(), level, "request", attrs...)
	}
}

func snake(k string) string {
	switch k {
	case "CallSid":
		return "call_sid"
	case "MessageSid":
		return "message_sid"
	case "RecordingSid":
		return "recording_sid"
	}
	return k
}

// recoverPanics turns a handler panic into a 500, logs it with its stack,
// and keeps the server serving.
func recoverPanics(log *slog.Logger, m *metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				m.panics.Inc()
				log.Error("handler panic", "route", c.FullPath(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
				} else {
					c.Abort()
				}
			}
		}()
		c.Next()
	}
}
