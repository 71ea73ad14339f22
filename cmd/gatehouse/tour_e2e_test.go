package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReadmeTour runs the README's "A short tour" against a fresh `gatehouse demo`, line by
// line and exactly as written, with the commands read from README.md so that the two cannot
// drift: a line a newcomer cannot follow fails here.
//
// The harness itself performs the tour's first two lines, because a test cannot run them as
// written: `go build -o gatehouse ./cmd/gatehouse` (the test builds the binary once for every
// end-to-end test, and puts it in the working directory as ./gatehouse) and `./gatehouse demo
// --addr 127.0.0.1:8080 &` (the test starts the demo on a free port, with its database in the
// test's directory, and stops it at the end; the port is the only difference the tour sees, and
// it reads it from ./gatehouse-demo.env like every other line). Every further line runs in one
// bash, in a fresh directory holding ./gatehouse and a copy of examples/, so that exports and
// files carry from line to line as in a terminal.
//
// Each line must exit 0, unless its comment says "exits N: why". A few outputs a newcomer
// would check are asserted too.
func TestReadmeTour(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	steps, err := tourSteps(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	harness := []string{"go build -o gatehouse ./cmd/gatehouse", "./gatehouse demo --addr 127.0.0.1:8080 &"}
	for i, want := range harness {
		if i >= len(steps) || !strings.HasPrefix(steps[i].cmd, want) {
			t.Fatalf("the tour's line %d is not %q, which this test performs itself: update the harness with the README", i+1, want)
		}
	}
	steps = steps[len(harness):]

	dir := t.TempDir()
	if err := os.Symlink(binary(t), filepath.Join(dir, "gatehouse")); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "examples"), os.DirFS("../../examples")); err != nil {
		t.Fatal(err)
	}
	// TMPDIR keeps the demo's own directory (audit key, checkpoints) in the test's.
	demo := start(t, []string{"TMPDIR=" + dir}, "Press Ctrl-C", "demo", "--db", "sqlite:"+filepath.Join(dir, "demo.db"),
		"--env-file", filepath.Join(dir, "gatehouse-demo.env"))
	defer demo.stop(t)
	if out := demo.stdout.String(); !strings.Contains(out, "MANAGER_TOKEN") || !strings.Contains(out, "OWNER_TOKEN") {
		t.Fatalf("the demo does not say which tokens the tour uses:\n%s", out)
	}

	outputs := runTour(t, bash, dir, steps)

	// What a newcomer would look at.
	for _, c := range []struct{ line, want string }{
		{"hr import examples/people.csv --dry-run", "1 joiners, 0 pre-hires, 1 movers, 1 leavers"},
		{"hr import examples/people.csv --dry-run", "0 updated, 0 missing"},
		{"hr import examples/people.csv --dry-run", "Dry run: nothing changed."},
		{"hr import examples/people.csv  ", "Applied as import"},
		{"confirmations confirm", "confirmed"},
		{"request create", "REQ-000001"},
		{"request list --pending-me", "REQ-000001"},
		{"request show REQ-000001", "approved"},
		{"catalog plan examples/catalog", "No changes."},
		{"catalog plan my-catalog", "github/release-managers"},
		{"token create --for okta-scim@example.com", "gh_"},
		{"audit verify", "audit chain intact"},
		{"hr import people-now.csv --dry-run", "0 joiners, 0 pre-hires, 0 movers, 0 leavers"},
		{"--checkpoints", "checkpoint"},
	} {
		found := false
		for _, o := range outputs {
			if strings.Contains(o.step.cmd+"  ", c.line) {
				found = true
				if !strings.Contains(o.out, c.want) {
					t.Errorf("README line %d (%s): output lacks %q:\n%s", o.step.line, o.step.cmd, c.want, o.out)
				}
			}
		}
		if !found {
			t.Errorf("the tour has no line with %q", c.line)
		}
	}
}

// tourStep is one command of the tour: a line, or lines joined by a trailing backslash or a
// here-document.
type tourStep struct {
	line int    // README line where it starts
	cmd  string // as written, comments included
	exit int    // the exit code its comment announces ("# exits 1: …"), else 0
}

var exitsComment = regexp.MustCompile(`#\s*exits (\d+)\b`)

// tourSteps reads the shell block under "## A short tour".
func tourSteps(readme string) ([]tourStep, error) {
	lines := strings.Split(readme, "\n")
	start := -1
	for i, l := range lines {
		if l == "## A short tour" {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("README.md has no \"## A short tour\" section")
	}
	i := start + 1
	for i < len(lines) && lines[i] != "```sh" {
		if strings.HasPrefix(lines[i], "## ") {
			return nil, fmt.Errorf("the tour section has no ```sh block")
		}
		i++
	}
	var steps []tourStep
	for i++; i < len(lines) && lines[i] != "```"; i++ {
		l := lines[i]
		if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		st := tourStep{line: i + 1, cmd: l}
		// A here-document runs to its delimiter; a trailing backslash continues the line.
		if m := regexp.MustCompile(`<<-?'?(\w+)'?`).FindStringSubmatch(l); m != nil {
			for i++; i < len(lines) && lines[i] != m[1]; i++ {
				st.cmd += "\n" + lines[i]
			}
			if i == len(lines) {
				return nil, fmt.Errorf("README line %d: here-document %s does not end", st.line, m[1])
			}
			st.cmd += "\n" + lines[i]
		}
		for strings.HasSuffix(strings.TrimSpace(stripComment(lines[i])), "\\") && i+1 < len(lines) {
			i++
			st.cmd += "\n" + lines[i]
		}
		if m := exitsComment.FindStringSubmatch(st.cmd); m != nil {
			st.exit, _ = strconv.Atoi(m[1])
		}
		steps = append(steps, st)
	}
	if i == len(lines) {
		return nil, fmt.Errorf("the tour's ```sh block does not end")
	}
	return steps, nil
}

// stripComment drops a trailing "  # comment" (the tour writes comments after two spaces).
func stripComment(l string) string {
	if i := strings.Index(l, "  #"); i >= 0 {
		return l[:i]
	}
	return l
}

// stepOutput is what one step printed (stdout and stderr together).
type stepOutput struct {
	step tourStep
	out  string
}

// runTour runs the steps in one bash in dir, checks each one's exit code, and returns what each
// printed.
func runTour(t *testing.T, bash, dir string, steps []tourStep) []stepOutput {
	t.Helper()
	const mark = "\x1egatehouse-tour"
	var script strings.Builder
	for i, st := range steps {
		fmt.Fprintf(&script, "printf '\\n%s start %d\\n'\n%s\nprintf '\\n%s exit %d %%d\\n' $?\n", mark, i, st.cmd, mark, i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "--noprofile", "--norc")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(script.String())
	// The tour's own variables come from ./gatehouse-demo.env, not from whoever runs the test.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	begin := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("bash: %v\n%s", err, out.String())
	}
	t.Logf("%d tour lines ran in %s", len(steps), time.Since(begin).Round(time.Millisecond))

	outputs := make([]stepOutput, len(steps))
	exits := make([]int, len(steps))
	for i := range exits {
		exits[i] = -1
	}
	cur := -1
	var buf strings.Builder
	for _, l := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(l, mark+" "); ok {
			f := strings.Fields(rest)
			n, _ := strconv.Atoi(f[1])
			switch f[0] {
			case "start":
				cur = n
				buf.Reset()
			case "exit":
				exits[n], _ = strconv.Atoi(f[2])
				outputs[n] = stepOutput{step: steps[n], out: strings.TrimSpace(buf.String())}
				cur = -1
			}
			continue
		}
		if cur >= 0 {
			buf.WriteString(l + "\n")
		}
	}
	for i, st := range steps {
		switch {
		case exits[i] < 0:
			t.Fatalf("README line %d never finished: %s\n%s", st.line, st.cmd, out.String())
		case exits[i] != st.exit:
			t.Errorf("README line %d exited %d, want %d: %s\n%s", st.line, exits[i], st.exit, st.cmd, outputs[i].out)
		}
	}
	return outputs
}
