package caselog

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the crash test re-run this binary as a child that records
// cases until it is killed.
func TestMain(m *testing.M) {
	if path := os.Getenv("CASELOG_CRASH_CHILD"); path != "" {
		crashChild(path)
		return
	}
	os.Exit(m.Run())
}

// crashChild records cases from 8 goroutines and prints each key and number
// only after Record has returned, as a webhook answers only after the commit.
func crashChild(path string) {
	round := os.Getenv("CASELOG_CRASH_ROUND")
	l, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("SM%s-%d-%d", round, w, i)
				c, _, err := l.Record(ctx, key, complaint("1380013800"+fmt.Sprint(w), "crash test"))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintln(out, key, c.Number)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestLog_SurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "CASELOG_CRASH_CHILD="+path, fmt.Sprintf("CASELOG_CRASH_ROUND=%d", round))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var printed []string
		sc := bufio.NewScanner(stdout)
		deadline := time.Now().Add(20 * time.Second)
		for sc.Scan() {
			printed = append(printed, strings.TrimSpace(sc.Text()))
			if len(printed) == 300+round*100 {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("child too slow: %d numbers in 20s", len(printed))
			}
		}
		// Numbers printed after the kill decision still count: read them all.
		for sc.Scan() {
			printed = append(printed, strings.TrimSpace(sc.Text()))
		}
		cmd.Wait()
		if err := Check(path); err != nil {
			t.Fatalf("round %d: file fails check after SIGKILL: %v", round, err)
		}
		l, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		// Every printed number is there, and a carrier's retry of its key
		// gets the same number back, not a second case.
		seen := map[string]bool{}
		for _, line := range printed {
			key, n, _ := strings.Cut(line, " ")
			if seen[n] {
				t.Fatalf("number %s printed twice", n)
			}
			seen[n] = true
			if _, err := l.Get(n); err != nil {
				t.Errorf("round %d: printed number %s lost: %v", round, n, err)
			}
			c, created, err := l.Record(ctx, key, complaint("13800138000", "retry"))
			if err != nil || created || c.Number != n {
				t.Errorf("round %d: retry of %s after SIGKILL: %s created=%v %v; want %s", round, key, c.Number, created, err, n)
			}
		}
		l.Close()
		t.Logf("round %d: %d printed numbers all found after SIGKILL, and their retries replayed", round, len(printed))
	}
}
