package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/config"
	"github.com/hotline/hotline/internal/demo"
)

// cmdDemo fills a fresh database with a realistic day of a hotline so the
// console has something to show. It uses the server's configuration for the
// file, calendar and deadlines; -db overrides the file.
func cmdDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stdout)
	db := fs.String("db", "", "database file (default: HOTLINE_DB)")
	seed := fs.Int64("seed", 12315, "random seed; the same seed gives the same cases")
	cases := fs.Int("cases", 300, "how many cases")
	force := fs.Bool("force", false, "add to a database that already has cases")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	cfg, err := config.FromEnvironment()
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if *db == "" {
		*db = cfg.DB
	}
	clock := new(demo.Clock)
	opts := logOptions(cfg, calendar(cfg))
	// A demo file is made in one go and thrown away on a failure: no fsync
	// per step.
	opts.Now, opts.NoSync = clock.Now, true
	l, err := caselog.Open(*db, opts)
	if err != nil {
		return err
	}
	sum, err := demo.Fill(ctx, l, demo.Options{Clock: clock, Now: time.Now(), Seed: *seed, Cases: *cases, Force: *force})
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("demo %s: %w", *db, err)
	}
	fmt.Fprintf(stdout, "%s: %s\n", *db, sum)
	fmt.Fprintln(stdout, "Start the server (go run ./cmd/hotline serve) and open the console. The demo's phone numbers are made up: do not run it with Twilio credentials and move these cases.")
	return nil
}
