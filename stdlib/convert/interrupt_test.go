package convert

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// waitForParquet polls dir until it holds n .parquet files or done closes.
func waitForParquet(dir string, n int, done <-chan struct{}) bool {
	for {
		entries, _ := os.ReadDir(dir)
		k := 0
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".parquet") {
				k++
			}
		}
		if k >= n {
			return true
		}
		select {
		case <-done:
			return false
		case <-time.After(500 * time.Microsecond):
		}
	}
}

// checkComplete asserts every .parquet file in dir is a full chunk.
func checkComplete(t *testing.T, dir string, chunk int64) (files []string, temps int) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			temps++
			continue
		}
		if !strings.HasSuffix(e.Name(), ".parquet") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		_, rows := parquetSchema(t, p) // fails the test on a damaged file
		if rows != chunk {
			t.Errorf("%s has %d rows, want a complete chunk of %d", e.Name(), rows, chunk)
		}
		files = append(files, p)
	}
	return files, temps
}

const interruptRecords, interruptChunk = 40000, 2000

func interruptInput(t *testing.T) string {
	in := filepath.Join(t.TempDir(), "big.tfrecords")
	if _, err := SeedSynthetic(interruptRecords, 3).WriteTFRecords(ctx, in, ""); err != nil {
		t.Fatal(err)
	}
	return in
}

// Cancelling the context stops the conversion, removes unfinished files,
// reports the finished ones; Resume completes the job.
func TestCancelAndResume(t *testing.T) {
	in := interruptInput(t)
	out := t.TempDir()
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		if waitForParquet(out, 2, done) {
			cancel()
		}
	}()
	opts := Options{Chunks: interruptChunk, ConvertLists: true, Workers: 1, RowGroupSize: 500}
	res, err := TFRecordsToParquet(cctx, []string{in}, out, opts)
	close(done)
	cancel()
	if err == nil {
		t.Fatal("conversion finished before the cancel; machine too fast for this input")
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted after") {
		t.Fatalf("error %v", err)
	}
	files, temps := checkComplete(t, out, interruptChunk)
	if temps != 0 {
		t.Errorf("%d temporary files left after cancel", temps)
	}
	if len(res.Files) != len(files) || len(files) == 0 || len(files) == interruptRecords/interruptChunk {
		t.Errorf("result lists %d files, directory has %d complete", len(res.Files), len(files))
	}
	if res.Rows != int64(len(res.Files))*interruptChunk {
		t.Errorf("result rows %d for %d files", res.Rows, len(res.Files))
	}
	opts.Resume = true
	res2, err := TFRecordsToParquet(ctx, []string{in}, out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Resumed) < len(files) || res2.Rows != interruptRecords || len(res2.Files) != interruptRecords/interruptChunk {
		t.Errorf("resume: %d resumed of %d, rows %d, files %d", len(res2.Resumed), len(files), res2.Rows, len(res2.Files))
	}
	back := filepath.Join(t.TempDir(), "back.tfrecords")
	if _, err := ParquetToTFRecords(ctx, res2.Files, back, TFRecordOptions{}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(in)
	b, _ := os.ReadFile(back)
	if string(a) != string(b) {
		t.Error("resumed conversion does not round-trip to the input bytes")
	}
}

// Killing the process mid-conversion (SIGKILL: no cleanup runs) leaves only
// complete .parquet files; temporary files never end in .parquet.
func TestKillLeavesNoPartialFile(t *testing.T) {
	if dir := os.Getenv("GOPHERLAB_CONVERT_KILL_CHILD"); dir != "" {
		in := os.Getenv("GOPHERLAB_CONVERT_KILL_INPUT")
		TFRecordsToParquet(ctx, []string{in}, dir, Options{Chunks: interruptChunk, ConvertLists: true, Workers: 1, RowGroupSize: 500})
		os.Exit(0)
	}
	in := interruptInput(t)
	out := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillLeavesNoPartialFile$")
	cmd.Env = append(os.Environ(), "GOPHERLAB_CONVERT_KILL_CHILD="+out, "GOPHERLAB_CONVERT_KILL_INPUT="+in)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	if !waitForParquet(out, 2, exited) {
		t.Fatal("child exited before writing two files")
	}
	cmd.Process.Kill()
	<-exited
	files, temps := checkComplete(t, out, interruptChunk)
	t.Logf("killed after %d complete files, %d temporary files left", len(files), temps)
	if len(files) == interruptRecords/interruptChunk {
		t.Fatal("child finished before the kill; machine too fast for this input")
	}
	// A resumed run finishes the job despite the leftovers.
	res, err := TFRecordsToParquet(ctx, []string{in}, out, Options{Chunks: interruptChunk, ConvertLists: true, Resume: true})
	if err != nil || res.Rows != interruptRecords || len(res.Resumed) < len(files) {
		t.Fatalf("resume after kill: %v rows %d resumed %d", err, res.Rows, len(res.Resumed))
	}
}
