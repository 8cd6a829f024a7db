package failpoint

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// disarmAll disarms every point when the test ends.
func disarmAll(t testing.TB) {
	t.Cleanup(func() {
		for _, p := range Points {
			Disarm(p.Name)
		}
		if armed.Load() != nil {
			t.Error("points still armed after disarming every one")
		}
	})
}

func TestParseTermsRefusesBadInput(t *testing.T) {
	for _, s := range []string{
		"", "explode", "panic(1)", "sleep", "sleep(x)", "sleep(-1s)", "x*panic", "-1*panic",
		"0%panic", "101%panic", "return(EBADTHING)", "return(unquoted)", "sleep(1s", "off->",
	} {
		if _, err := parseTerms(s); err == nil {
			t.Errorf("parseTerms(%q): no error", s)
		}
	}
	for _, s := range []string{"panic", "off", "sleep(100)", "sleep(250ms)", `sleep("1s")`, "return",
		"return(ENOSPC)", `return("disk on fire")`, "3*off->panic", "50%sleep(1ms)", "10%2*return(EIO)"} {
		if _, err := parseTerms(s); err != nil {
			t.Errorf("parseTerms(%q): %v", s, err)
		}
	}
}

func TestArmRefusesUnknownPointsAndReturnOnHitPoints(t *testing.T) {
	disarmAll(t)
	if err := Arm("raftlog/nonesuch", "panic"); err == nil {
		t.Error("armed an unknown point")
	}
	if err := Arm("raftlog/afterSync", "return"); err == nil {
		t.Error("armed return on a point that cannot fail")
	}
	if err := ArmAll("raftlog/beforeSync=sleep(1ms);raftlog/afterSync=return"); err == nil {
		t.Error("ArmAll took a bad pair")
	}
	if got := Armed(); len(got) != 0 {
		t.Errorf("ArmAll armed %v of a spec it refused", got)
	}
	if armed.Load() != nil {
		t.Error("refused arming left the table non-nil")
	}
	if err := ArmAll(" ; "); err != nil || armed.Load() != nil {
		t.Errorf("an empty spec: %v, armed %v", err, Armed())
	}
}

func TestReturnCountsAndChains(t *testing.T) {
	disarmAll(t)
	if err := Err("raftlog/beforeWrite"); err != nil {
		t.Fatalf("unarmed: %v", err)
	}
	if err := ArmAll("raftlog/beforeWrite=2*off->1*return(ENOSPC)->return(\"disk on fire\")"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 5 {
		err := Err("raftlog/beforeWrite")
		switch {
		case err == nil:
			got = append(got, "nil")
		case errors.Is(err, syscall.ENOSPC):
			got = append(got, "ENOSPC")
		default:
			got = append(got, err.Error())
		}
	}
	want := []string{"nil", "nil", "ENOSPC", "failpoint raftlog/beforeWrite: disk on fire", "failpoint raftlog/beforeWrite: disk on fire"}
	if !slices.Equal(got, want) {
		t.Errorf("hits gave %q, want %q", got, want)
	}
	// A used-up chain does nothing.
	if err := Arm("raftlog/beforeWrite", "1*return"); err != nil {
		t.Fatal(err)
	}
	if Err("raftlog/beforeWrite") == nil || Err("raftlog/beforeWrite") != nil {
		t.Error("1*return: want one error, then nothing")
	}
	if Armed()["raftlog/beforeWrite"] != "1*return" {
		t.Errorf("Armed: %v", Armed())
	}
	Disarm("raftlog/beforeWrite")
	if err := Err("raftlog/beforeWrite"); err != nil {
		t.Errorf("disarmed: %v", err)
	}
}

func TestSleepAndPercentage(t *testing.T) {
	disarmAll(t)
	if err := Arm("raftlog/beforeSync", "sleep(30ms)"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	Hit("raftlog/beforeSync")
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("sleep(30ms) slept %v", d)
	}
	if err := Arm("raftlog/beforeWrite", "50%return"); err != nil {
		t.Fatal(err)
	}
	n := 0
	for range 1000 {
		if Err("raftlog/beforeWrite") != nil {
			n++
		}
	}
	if n < 350 || n > 650 { // 1000 draws at 50%: outside this is ~1e-20
		t.Errorf("50%%return failed %d of 1000 hits", n)
	}
}

// The crash is a real exit of a real process: the test binary runs itself
// with the point armed through CAIRN_FAILPOINTS.
func TestCrashExitsAtOnce(t *testing.T) {
	if os.Getenv("FAILPOINT_CHILD") != "" {
		if err := ArmAll(os.Getenv("CAIRN_FAILPOINTS")); err != nil {
			os.Exit(3)
		}
		defer os.WriteFile(os.Getenv("FAILPOINT_CHILD"), []byte("deferred ran"), 0o644)
		for range 3 {
			Hit("raftlog/afterSync")
			os.Stdout.WriteString("hit\n")
		}
		return
	}
	mark := filepath.Join(t.TempDir(), "mark")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashExitsAtOnce$")
	cmd.Env = append(os.Environ(), "FAILPOINT_CHILD="+mark, "CAIRN_FAILPOINTS=raftlog/afterSync=2*off->panic")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitCode {
		t.Fatalf("want exit %d, got %v; stdout %q", ExitCode, err, out)
	}
	if string(out) != "hit\nhit\n" {
		t.Errorf("stdout %q: want two hits before the crash", out)
	}
	if !strings.Contains(string(ee.Stderr), "failpoint raftlog/afterSync: crash") {
		t.Errorf("stderr %q", ee.Stderr)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Error("a deferred function ran at the crash")
	}
}

// Every listed point is in the code once, reached through Hit or Err as
// its CanFail says, and the code names no point that is not listed.
func TestPointsAreInTheCode(t *testing.T) {
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..")
	call := regexp.MustCompile(`failpoint\.(Hit|Err)\("([^"]+)"\)`)
	found := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "failpoint") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range call.FindAllStringSubmatch(string(b), -1) {
			found[m[2]] = append(found[m[2]], m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Points {
		want := "Hit"
		if p.CanFail {
			want = "Err"
		}
		if got := found[p.Name]; !slices.Equal(got, []string{want}) {
			t.Errorf("point %s: the code reaches it through %v, want once through %s", p.Name, got, want)
		}
		delete(found, p.Name)
	}
	for name := range found {
		t.Errorf("the code names point %s, which Points does not list", name)
	}
}

func BenchmarkUnarmed(b *testing.B) {
	for b.Loop() {
		Hit("raftlog/afterSync")
	}
}

func BenchmarkUnarmedErr(b *testing.B) {
	for b.Loop() {
		if Err("raftlog/beforeWrite") != nil {
			b.Fatal("unarmed point failed")
		}
	}
}
