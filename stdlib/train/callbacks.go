package train

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrStopTraining, returned by a callback, ends Fit early without an error
// (Keras's model.stop_training = True).
var ErrStopTraining = errors.New("train: stop training")

// Callback is called by Fit around epochs and batches. Returning
// ErrStopTraining stops training cleanly; any other error aborts Fit with
// that error. Embed NopCallback to implement only some methods, or use
// CallbackFuncs.
type Callback interface {
	// OnTrainBegin is called once with the model being trained.
	OnTrainBegin(m *Model) error
	// OnEpochBegin is called before each epoch (0-based).
	OnEpochBegin(epoch int) error
	// OnBatchEnd is called after each step with the running epoch logs.
	OnBatchEnd(epoch, batch int, logs Logs) error
	// OnEpochEnd is called after each epoch with its logs (including
	// "val_" entries when validating).
	OnEpochEnd(epoch int, logs Logs) error
	// OnTrainEnd is called once with the last epoch's logs.
	OnTrainEnd(logs Logs) error
}

// NopCallback implements every Callback method as a no-op.
type NopCallback struct{}

// OnTrainBegin does nothing.
func (NopCallback) OnTrainBegin(*Model) error { return nil }

// OnEpochBegin does nothing.
func (NopCallback) OnEpochBegin(int) error { return nil }

// OnBatchEnd does nothing.
func (NopCallback) OnBatchEnd(int, int, Logs) error { return nil }

// OnEpochEnd does nothing.
func (NopCallback) OnEpochEnd(int, Logs) error { return nil }

// OnTrainEnd does nothing.
func (NopCallback) OnTrainEnd(Logs) error { return nil }

// CallbackFuncs is a Callback made of optional functions, handy in cells
// (for example a tuning pruner reporting each epoch's val_loss).
type CallbackFuncs struct {
	// BatchEnd, when set, is called after every step.
	BatchEnd func(epoch, batch int, logs Logs) error
	// EpochEnd, when set, is called after every epoch.
	EpochEnd func(epoch int, logs Logs) error
}

// OnTrainBegin does nothing.
func (CallbackFuncs) OnTrainBegin(*Model) error { return nil }

// OnEpochBegin does nothing.
func (CallbackFuncs) OnEpochBegin(int) error { return nil }

// OnBatchEnd calls BatchEnd.
func (c CallbackFuncs) OnBatchEnd(e, b int, l Logs) error {
	if c.BatchEnd == nil {
		return nil
	}
	return c.BatchEnd(e, b, l)
}

// OnEpochEnd calls EpochEnd.
func (c CallbackFuncs) OnEpochEnd(e int, l Logs) error {
	if c.EpochEnd == nil {
		return nil
	}
	return c.EpochEnd(e, l)
}

// OnTrainEnd does nothing.
func (CallbackFuncs) OnTrainEnd(Logs) error { return nil }

// monitorMode resolves "auto" into min or max from the metric name.
func monitorMode(mode, monitor string) (bool, error) {
	switch mode {
	case "min":
		return false, nil
	case "max":
		return true, nil
	case "", "auto":
		return strings.Contains(monitor, "acc"), nil
	}
	return false, fmt.Errorf("train: mode must be min, max or auto, got %q", mode)
}

// EarlyStopping stops training when a monitored metric stops improving.
type EarlyStopping struct {
	NopCallback
	// Monitor is the metric to watch (default "val_loss").
	Monitor string
	// MinDelta is the smallest change counted as an improvement.
	MinDelta float64
	// Patience is the number of epochs without improvement to wait.
	Patience int
	// Mode is "min", "max" or "auto" (max for accuracies).
	Mode string
	// RestoreBestWeights puts back the weights of the best epoch on stop.
	RestoreBestWeights bool
	// StoppedEpoch is set to the epoch at which training stopped.
	StoppedEpoch int

	m        *Model
	best     float64
	wait     int
	maximize bool
	weights  [][]float32
}

// OnTrainBegin resets the state.
func (e *EarlyStopping) OnTrainBegin(m *Model) error {
	if e.Monitor == "" {
		e.Monitor = "val_loss"
	}
	max, err := monitorMode(e.Mode, e.Monitor)
	if err != nil {
		return err
	}
	e.m, e.maximize, e.wait, e.StoppedEpoch = m, max, 0, -1
	e.best = math.Inf(1)
	if max {
		e.best = math.Inf(-1)
	}
	return nil
}

// OnEpochEnd checks for an improvement.
func (e *EarlyStopping) OnEpochEnd(epoch int, logs Logs) error {
	v, ok := logs[e.Monitor]
	if !ok {
		return fmt.Errorf("train: EarlyStopping monitors %q, which is not in the logs (%s)", e.Monitor, logKeys(logs))
	}
	better := v < e.best-e.MinDelta
	if e.maximize {
		better = v > e.best+e.MinDelta
	}
	if better {
		e.best, e.wait = v, 0
		if e.RestoreBestWeights {
			e.weights = snapshot(e.m)
		}
		return nil
	}
	e.wait++
	if e.wait > e.Patience {
		e.StoppedEpoch = epoch
		if e.RestoreBestWeights && e.weights != nil {
			restore(e.m, e.weights)
		}
		return ErrStopTraining
	}
	return nil
}

func snapshot(m *Model) [][]float32 {
	var out [][]float32
	for _, w := range m.Weights() {
		out = append(out, append([]float32(nil), w.Value...))
	}
	return out
}

func restore(m *Model, s [][]float32) {
	for i, w := range m.Weights() {
		copy(w.Value, s[i])
	}
}

func logKeys(l Logs) string {
	var ks []string
	for k := range l {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// CSVLogger writes one row per epoch to a CSV file: epoch, begin and end
// timestamps, then every log value in name order. The file is rewritten
// atomically after each epoch, so it is never half-written.
type CSVLogger struct {
	NopCallback
	// Path is the CSV file to write.
	Path string
	// Append keeps the rows of an existing file (resumed training).
	Append bool

	header []string
	rows   [][]string
	begin  time.Time
}

// OnTrainBegin loads existing rows when appending.
func (c *CSVLogger) OnTrainBegin(*Model) error {
	c.header, c.rows = nil, nil
	if !c.Append {
		return nil
	}
	f, err := os.Open(c.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return fmt.Errorf("train: CSVLogger: reading %s: %w", c.Path, err)
	}
	if len(recs) > 0 {
		c.header, c.rows = recs[0], recs[1:]
	}
	return nil
}

// OnEpochBegin records the start time.
func (c *CSVLogger) OnEpochBegin(int) error {
	c.begin = time.Now()
	return nil
}

// OnEpochEnd appends a row and rewrites the file.
func (c *CSVLogger) OnEpochEnd(epoch int, logs Logs) error {
	if c.header == nil {
		c.header = append([]string{"epoch", "datetime_epoch_begin", "datetime_epoch_end"}, sortedKeys(logs)...)
	}
	row := []string{strconv.Itoa(epoch), c.begin.UTC().Format("2006-01-02 15:04:05.000000"), time.Now().UTC().Format("2006-01-02 15:04:05.000000")}
	for _, k := range c.header[3:] {
		if v, ok := logs[k]; ok {
			row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
		} else {
			row = append(row, "")
		}
	}
	c.rows = append(c.rows, row)
	return writeAtomic(c.Path, func(f *os.File) error {
		w := csv.NewWriter(f)
		w.Write(c.header)
		w.WriteAll(c.rows)
		return w.Error()
	})
}

func sortedKeys(l Logs) []string {
	var ks []string
	for k := range l {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// writeAtomic writes a file through a temporary file in the same directory
// and renames it into place.
func writeAtomic(path string, write func(f *os.File) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// ModelCheckpoint saves the model after epochs; with SaveBestOnly only when
// the monitored metric improves (the file then holds the best model).
type ModelCheckpoint struct {
	NopCallback
	// Path is the model file (written atomically with Model.Save).
	Path string
	// Monitor is the metric deciding "best" (default "val_loss").
	Monitor string
	// Mode is "min", "max" or "auto" (max for accuracies).
	Mode string
	// SaveBestOnly saves only improvements.
	SaveBestOnly bool
	// Best is the best monitored value seen; BestEpoch its epoch.
	Best      float64
	BestEpoch int

	m        *Model
	maximize bool
}

// OnTrainBegin resets the best value.
func (c *ModelCheckpoint) OnTrainBegin(m *Model) error {
	if c.Monitor == "" {
		c.Monitor = "val_loss"
	}
	max, err := monitorMode(c.Mode, c.Monitor)
	if err != nil {
		return err
	}
	c.m, c.maximize, c.BestEpoch = m, max, -1
	c.Best = math.Inf(1)
	if max {
		c.Best = math.Inf(-1)
	}
	return nil
}

// OnEpochEnd saves the model when it improved (or always).
func (c *ModelCheckpoint) OnEpochEnd(epoch int, logs Logs) error {
	v, ok := logs[c.Monitor]
	if !ok {
		return fmt.Errorf("train: ModelCheckpoint monitors %q, which is not in the logs (%s)", c.Monitor, logKeys(logs))
	}
	better := v < c.Best
	if c.maximize {
		better = v > c.Best
	}
	if better {
		c.Best, c.BestEpoch = v, epoch
	}
	if better || !c.SaveBestOnly {
		return c.m.Save(c.Path)
	}
	return nil
}
