package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/hotline/hotline/config"
	"github.com/hotline/hotline/internal/simulate"
)

// cmdSimulate is a terminal phone: `simulate call` walks the IVR as Twilio
// would, `simulate sms` sends one text. It reads the same configuration as
// the server (environment and .env) so that it signs with the server's
// TWILIO_AUTH_TOKEN over its HOTLINE_PUBLIC_URL.
func cmdSimulate(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "call" && args[0] != "sms") {
		return usageError("simulate: want `simulate call` or `simulate sms`")
	}
	kind := args[0]
	fs := flag.NewFlagSet("simulate "+kind, flag.ContinueOnError)
	fs.SetOutput(stdout)
	from := fs.String("from", "", "the caller's number, in any written form (required)")
	to := fs.String("to", "", "the hotline's number (default: TWILIO_FROM_NUMBER)")
	lang := fs.String("lang", "", "call: en to choose English as a caller would")
	base := fs.String("url", "", "server URL (default: from HOTLINE_ADDR)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(err.Error())
	}
	if *from == "" {
		return usageError("simulate: --from is required")
	}
	cfg, err := config.FromEnvironment()
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if *base == "" {
		*base = localURL(cfg.Addr)
	}
	if *to == "" {
		*to = cfg.TwilioFromNumber
	}
	public := cfg.PublicURL
	if cfg.LocalMode() {
		public = *base // unsigned in local mode; nothing to match
	}
	o := simulate.Options{
		BaseURL: *base, PublicURL: public, AuthToken: cfg.TwilioAuthToken,
		From: *from, To: *to, Region: cfg.DefaultRegion, Lang: *lang,
		In: stdin, Out: stdout,
	}
	if kind == "call" {
		if fs.NArg() != 0 {
			return usageError("simulate call: unexpected " + strings.Join(fs.Args(), " "))
		}
		_, err := simulate.Call(ctx, o)
		return err
	}
	if fs.NArg() == 0 {
		return usageError(`simulate sms: want the message text, e.g. simulate sms --from 13800138000 "投诉 …"`)
	}
	_, err = simulate.SMS(ctx, o, strings.Join(fs.Args(), " "))
	return err
}
