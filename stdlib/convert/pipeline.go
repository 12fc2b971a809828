package convert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/gopherlab/gopherlab/stdlib/convert/internal/atomicfile"
	"github.com/gopherlab/gopherlab/stdlib/convert/tfrecord"
)

// conversion is the shared state of one TFRecordsToParquet call.
type conversion struct {
	ctx     context.Context // cancelled with the first error as cause
	cancel  context.CancelCauseFunc
	p       *plan
	layout  *pqLayout
	opts    Options
	outDir  string
	work    chan *batch
	free    chan *batch
	writers chan struct{} // bounds the chunk files written at once

	mu       sync.Mutex
	hint     sizeHint
	firstErr error
	outs     []outFile
	skipped  int64
	probs    []string
}

// fail records the first error and stops the whole conversion.
func (c *conversion) fail(err error) {
	c.mu.Lock()
	if c.firstErr == nil {
		c.firstErr = err
	}
	c.mu.Unlock()
	c.cancel(err)
}

// maxRawReserve bounds the record bytes reserved up front for one batch.
const maxRawReserve = 32 << 20

// spareBatches keeps the batches of finished conversions for the next
// ones, so that a run of conversions does not allocate (and fault in) fresh
// buffers each time; the garbage collector empties it when memory is idle.
var spareBatches sync.Pool

func (c *conversion) getBatch() *batch {
	select {
	case b := <-c.free:
		return b
	default:
	}
	if b, ok := spareBatches.Get().(*batch); ok {
		return b
	}
	// A new batch starts with the capacities earlier batches needed, so
	// that filling it does not copy while growing.
	c.mu.Lock()
	defer c.mu.Unlock()
	b := &batch{raw: make([]byte, 0, c.hint.raw), ends: make([]int, 0, c.opts.BatchSize), offsets: make([]int64, 0, c.opts.BatchSize)}
	if c.hint.cols != nil {
		b.cols = make([]colBuf, len(c.hint.cols))
		for i, h := range c.hint.cols {
			b.cols[i].grow(h, c.p.cols[i].elem)
		}
	}
	return b
}

// sizeHint remembers the largest buffers a batch needed.
type sizeHint struct {
	raw  int
	cols []colHint
}

func (c *conversion) putBatch(b *batch) {
	c.mu.Lock()
	c.hint.raw = max(c.hint.raw, cap(b.raw))
	if len(b.cols) > 0 {
		if c.hint.cols == nil {
			c.hint.cols = make([]colHint, len(b.cols))
		}
		for i := range b.cols {
			c.hint.cols[i].update(&b.cols[i], c.p.cols[i].elem)
		}
	}
	c.mu.Unlock()
	b.raw, b.ends, b.offsets = b.raw[:0], b.ends[:0], b.offsets[:0]
	b.done, b.err, b.last, b.eof, b.resumed = nil, nil, false, false, ""
	select {
	case c.free <- b:
	default:
	}
}

// runConversion streams every input through the decode workers into its
// chunk files.
func runConversion(parent context.Context, files []string, outDir string, p *plan, opts Options, res *Result) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	layout, err := newPQLayout(p, opts.ParquetCompression)
	if err != nil {
		return err
	}
	c := &conversion{ctx: ctx, cancel: cancel, p: p, layout: layout, opts: opts, outDir: outDir,
		work: make(chan *batch, opts.Workers), free: make(chan *batch, 3*opts.Workers+2),
		writers: make(chan struct{}, opts.Workers)}
	var workers sync.WaitGroup
	for i := 0; i < opts.Workers; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			d := newDecoder(p)
			enc, err := newPageEncoder(layout)
			if err != nil {
				c.fail(err)
			}
			for b := range c.work {
				if b.resumed == "" && ctx.Err() == nil && enc != nil {
					d.decodeBatch(b, opts.SkipCorrupt, files[b.file])
					if b.err == nil {
						enc.encodeBatch(p, b)
					}
				}
				close(b.done)
			}
		}()
	}
	// Files run concurrently, at most Workers at a time; within a file the
	// reader, the decode workers and the writer form a pipeline.
	sem := make(chan struct{}, opts.Workers)
	var fileWG sync.WaitGroup
	for i := range files {
		fileWG.Add(1)
		go func(i int) {
			defer fileWG.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if err := c.convertFile(i, files[i]); err != nil {
				c.fail(err)
			}
		}(i)
	}
	fileWG.Wait()
	close(c.work)
	workers.Wait()
	for len(c.free) > 0 {
		spareBatches.Put(<-c.free)
	}
	layout.release()

	res.Files = sortFiles(c.outs)
	for _, o := range c.outs {
		res.Rows += o.rows
		res.BytesOut += o.bytes
		if o.resumed {
			res.Resumed = append(res.Resumed, o.path)
		}
	}
	res.Skipped, res.Problems = c.skipped, c.probs
	firstErr := c.firstErr
	if firstErr == nil && parent.Err() != nil {
		firstErr = parent.Err()
	}
	if firstErr != nil && parent.Err() != nil && errors.Is(firstErr, parent.Err()) {
		return fmt.Errorf("convert: interrupted after %d complete files (%d rows); run again with Resume to continue: %w", len(res.Files), res.Rows, firstErr)
	}
	return firstErr
}

// convertFile runs the reader here and the writer in a goroutine.
func (c *conversion) convertFile(idx int, path string) error {
	r, err := openInput(path, c.opts)
	if err != nil {
		return err
	}
	defer r.Close()
	order := make(chan *batch, c.opts.Workers+1)
	werr := make(chan error, 1)
	go func() {
		err := c.writeFile(idx, path, order)
		if err != nil {
			c.fail(err)
		}
		werr <- err
	}()
	rerr := c.readFile(idx, path, r, order)
	close(order)
	err = <-werr
	if rerr != nil {
		return rerr
	}
	return err
}

// readFile splits the input into batches aligned with chunk boundaries.
func (c *conversion) readFile(idx int, path string, r *tfrecord.Reader, order chan<- *batch) error {
	chunks, batchSize := c.opts.Chunks, c.opts.BatchSize
	var rec int64
	chunk := 0
	inChunk := 0
	resumed := ""
	if c.opts.Resume {
		resumed = c.resumable(path, 0)
	}
	b := c.getBatch()
	b.file, b.chunk, b.first = idx, 0, 0
	send := func(last, eof bool) error {
		b.last, b.eof, b.resumed = last, eof, resumed
		b.done = make(chan struct{})
		select {
		case order <- b:
		case <-c.ctx.Done():
			return context.Cause(c.ctx)
		}
		select {
		case c.work <- b:
		case <-c.ctx.Done():
			close(b.done)
			return context.Cause(c.ctx)
		}
		return nil
	}
	for {
		if rec%ctxEvery == 0 && c.ctx.Err() != nil {
			return context.Cause(c.ctx)
		}
		var err error
		if resumed != "" {
			err = r.Skip()
		} else {
			b.raw, err = r.AppendNext(b.raw)
		}
		if err == io.EOF {
			return send(true, true)
		}
		if err != nil {
			if c.opts.SkipCorrupt && errors.Is(err, tfrecord.ErrCorrupt) {
				c.noteSkip(err)
				rec++
				if errors.Is(err, tfrecord.ErrDataChecksum) {
					continue
				}
				return send(true, true) // the framing is lost: keep what was read
			}
			return err
		}
		if resumed == "" {
			if n := min(batchSize, chunks); len(b.ends) == 0 && cap(b.raw) < n*len(b.raw) {
				// A batch without a size hint yet: reserve room for
				// batchSize records like its first one (bounded), rather
				// than copying the batch while it doubles.
				if want := n * len(b.raw) * 5 / 4; want <= maxRawReserve {
					b.raw = slices.Grow(b.raw, want-len(b.raw))
				}
			}
			b.ends = append(b.ends, len(b.raw))
			b.offsets = append(b.offsets, r.Offset())
		}
		rec++
		inChunk++
		if inChunk == chunks {
			if err := send(true, false); err != nil {
				return err
			}
			chunk++
			inChunk = 0
			resumed = ""
			if c.opts.Resume {
				resumed = c.resumable(path, chunk)
			}
			b = c.getBatch()
			b.file, b.chunk, b.first = idx, chunk, rec
		} else if resumed == "" && len(b.ends) == batchSize {
			if err := send(false, false); err != nil {
				return err
			}
			b = c.getBatch()
			b.file, b.chunk, b.first = idx, chunk, rec
		}
	}
}

func (c *conversion) resumable(path string, chunk int) string {
	out := filepath.Join(c.outDir, ChunkName(path, chunk))
	if _, ok := existingChunk(out, c.p.schema, c.opts.Chunks); ok {
		return out
	}
	return ""
}

func (c *conversion) noteSkip(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skipped++
	if len(c.probs) < maxSkipErrors {
		c.probs = append(c.probs, err.Error())
	}
}

// chunkWriter is one output file being written.
type chunkWriter struct {
	f    *atomicfile.File
	w    *pqFile
	rows int64
}

func (c *conversion) openChunk(path string) (*chunkWriter, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	w, err := newPQFile(c.layout, f, c.opts.RowGroupSize)
	if err != nil {
		f.Abort()
		return nil, fmt.Errorf("convert: %s: %w", path, err)
	}
	w.expect = min(c.opts.RowGroupSize, c.opts.Chunks)
	return &chunkWriter{f: f, w: w}, nil
}

func (cw *chunkWriter) abort() {
	cw.w.release()
	cw.f.Abort()
}

// writeFile hands the file's batches, in order, to one goroutine per
// output chunk; up to Workers chunks (over all files) are written at once,
// so a single large input is still written in parallel.
func (c *conversion) writeFile(idx int, path string, order <-chan *batch) error {
	var wg sync.WaitGroup
	var cur chan *batch
	curChunk := -1
	// Chunk files of one input are committed in order: a failure leaves
	// the chunks before it and none after it.
	prevDone := make(chan struct{})
	close(prevDone)
	defer func() {
		if cur != nil {
			close(cur)
		}
		wg.Wait()
	}()
	for b := range order {
		if b.chunk != curChunk {
			if cur != nil {
				close(cur)
				cur = nil
			}
			select {
			case c.writers <- struct{}{}:
			case <-c.ctx.Done():
				<-b.done
				for b := range order {
					<-b.done
				}
				return context.Cause(c.ctx)
			}
			curChunk = b.chunk
			cur = make(chan *batch, 2)
			done := make(chan struct{})
			wg.Add(1)
			go func(chunk int, in <-chan *batch, prev <-chan struct{}) {
				defer wg.Done()
				defer func() { <-c.writers }()
				if err := c.writeChunk(idx, path, chunk, in, prev); err != nil {
					c.fail(err)
					return
				}
				close(done)
			}(b.chunk, cur, prevDone)
			prevDone = done
		}
		cur <- b
	}
	return nil
}

// writeChunk writes the batches of one chunk into its file.
func (c *conversion) writeChunk(idx int, path string, chunk int, in <-chan *batch, prev <-chan struct{}) (err error) {
	var cw *chunkWriter
	defer func() {
		if cw != nil {
			cw.abort()
		}
		// Drain so that the dispatcher never blocks.
		for b := range in {
			<-b.done
		}
	}()
	out := filepath.Join(c.outDir, ChunkName(path, chunk))
	for b := range in {
		select {
		case <-b.done:
		case <-c.ctx.Done():
			<-b.done
		}
		if c.ctx.Err() != nil {
			return context.Cause(c.ctx)
		}
		if b.err != nil {
			return b.err
		}
		if b.skipped > 0 {
			c.mu.Lock()
			c.skipped += b.skipped
			for _, s := range b.skipErrs {
				if len(c.probs) < maxSkipErrors {
					c.probs = append(c.probs, s)
				}
			}
			c.mu.Unlock()
		}
		if b.resumed != "" {
			if b.last {
				var size int64
				if st, _ := os.Stat(b.resumed); st != nil {
					size = st.Size()
				}
				c.addOut(outFile{input: idx, chunk: chunk, path: b.resumed, rows: int64(c.opts.Chunks), bytes: size, resumed: true})
			}
			c.putBatch(b)
			continue
		}
		if cw == nil {
			// A file whose record count is a multiple of Chunks ends with an
			// empty batch: no extra empty file, except for an empty input.
			if b.rows == 0 && b.eof && chunk > 0 {
				c.putBatch(b)
				continue
			}
			if cw, err = c.openChunk(out); err != nil {
				return err
			}
		}
		if b.rows > 0 {
			groups := cw.w.ordinal
			if err = cw.w.add(b.pages, b.rows); err != nil {
				return fmt.Errorf("convert: writing %s: %w", out, err)
			}
			if cw.w.ordinal != groups {
				// A row group went to the file: start writing it to disk
				// while the rest of the chunk is converted, so that Commit
				// has less to wait for.
				cw.f.StartWriteback()
			}
			cw.rows += int64(b.rows)
		}
		last := b.last
		c.putBatch(b)
		if last {
			if err := cw.w.close(); err != nil {
				return fmt.Errorf("convert: writing %s: %w", out, err)
			}
			select {
			case <-prev:
			case <-c.ctx.Done():
			}
			if c.ctx.Err() != nil {
				return context.Cause(c.ctx)
			}
			if err := cw.f.Commit(); err != nil {
				return fmt.Errorf("convert: %w", err)
			}
			var size int64
			if st, _ := os.Stat(out); st != nil {
				size = st.Size()
			}
			c.addOut(outFile{input: idx, chunk: chunk, path: out, rows: cw.rows, bytes: size})
			cw = nil
		}
	}
	return nil
}

func (c *conversion) addOut(o outFile) {
	c.mu.Lock()
	c.outs = append(c.outs, o)
	c.mu.Unlock()
}
