package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/config"
	"github.com/hotline/hotline/ivr"
)

// cmdCheck verifies a case log file: bbolt's page check and the log's own
// invariants. It opens the file read-only; run it on a backup, or on the
// live file only while the server is stopped (bbolt locks the file).
func cmdCheck(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError("check: want `check FILE`")
	}
	if _, err := os.Stat(args[0]); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if err := caselog.Check(args[0]); err != nil {
		return fmt.Errorf("check %s: FAILED:\n%w", args[0], err)
	}
	fmt.Fprintf(stdout, "%s: ok\n", args[0])
	return nil
}

// cmdIVRCheck checks a menu file and lists every problem with its place.
func cmdIVRCheck(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError("ivr check: want `ivr check FILE`")
	}
	if _, err := ivr.LoadFile(args[0]); err != nil {
		return fmt.Errorf("ivr check:\n%w", err)
	}
	fmt.Fprintf(stdout, "%s: ok\n", args[0])
	return nil
}

// cmdBackup asks the running server for a snapshot, writes it beside FILE,
// checks it, and only then renames it into place: a backup that exists is a
// good one.
func cmdBackup(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	url := fs.String("url", "", "base URL of the running server (default: from HOTLINE_ADDR)")
	token := fs.String("token", "", "admin staff token (default: the first admin token of HOTLINE_STAFF_TOKENS)")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if fs.NArg() != 1 {
		return usageError("backup: want `backup FILE`")
	}
	dest := fs.Arg(0)
	if *url == "" || *token == "" {
		cfg, err := config.FromEnvironment()
		if err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		if *url == "" {
			*url = localURL(cfg.Addr)
		}
		if *token == "" {
			for _, t := range cfg.StaffTokens {
				if t.Admin {
					*token = t.Token
					break
				}
			}
		}
	}
	if *token == "" {
		return errors.New("backup: no admin token: pass -token or mark one in HOTLINE_STAFF_TOKENS as name:token:admin")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url+"/admin/backup", nil)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+*token)
	resp, err := (&http.Client{Timeout: 30 * time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("backup: server answered %s: %s", resp.Status, msg)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".hotline-backup-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, resp.Body)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: writing %s: %w", dest, err)
	}
	if err := caselog.Check(tmp.Name()); err != nil {
		return fmt.Errorf("backup: the copy fails its check, not kept:\n%w", err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "%s: %d bytes, checked ok\n", dest, n)
	return nil
}

// localURL turns a listen address into a URL on this machine.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "8080"
	}
	return "http://" + net.JoinHostPort(host, port)
}
