package convert

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/gopherlab/gopherlab/stdlib/convert/example"
	"github.com/gopherlab/gopherlab/stdlib/convert/tfrecord"
)

// Synthetic describes a synthetic tabular data set shaped like NVTabular's
// create_synthetic_df: continuous features cont0.. (uniform in [-1, 1)),
// categorical features cat0.. (integers below Cardinality), variable-length
// lists of continuous values cont_list0.. and of categories cat_list0..
// (lengths uniform in 0..MaxListLen-1), and a binary label. Equal specs
// (including Seed) give equal data.
type Synthetic struct {
	Rows             int    // number of rows
	Continuous       int    // number of cont<i> features (float32)
	Categorical      int    // number of cat<i> features (int64)
	ContinuousLists  int    // number of cont_list<i> features (list<float32>)
	CategoricalLists int    // number of cat_list<i> features (list<int64>)
	MaxListLen       int    // list lengths are 0..MaxListLen-1 (default 20)
	Cardinality      int    // categories are 0..Cardinality-1 (default 10)
	Seed             uint64 // random seed
}

// SeedSynthetic returns the data set of the NVTabular notebook: 5
// continuous, 7 categorical, 2 continuous-list and 3 categorical-list
// features plus a label.
func SeedSynthetic(rows int, seed uint64) Synthetic {
	return Synthetic{Rows: rows, Continuous: 5, Categorical: 7, ContinuousLists: 2, CategoricalLists: 3, Seed: seed}
}

func (s Synthetic) norm() Synthetic {
	if s.MaxListLen <= 0 {
		s.MaxListLen = 20
	}
	if s.Cardinality <= 0 {
		s.Cardinality = 10
	}
	return s
}

// synthRow holds one generated row.
type synthRow struct {
	cont     []float32
	cat      []int64
	contList [][]float32
	catList  [][]int64
	label    int64
}

type synthGen struct {
	s   Synthetic
	rng *rand.Rand
	row synthRow
}

func newSynthGen(s Synthetic) *synthGen {
	s = s.norm()
	g := &synthGen{s: s, rng: rand.New(rand.NewPCG(s.Seed, 0x9e3779b97f4a7c15))}
	g.row.cont = make([]float32, s.Continuous)
	g.row.cat = make([]int64, s.Categorical)
	g.row.contList = make([][]float32, s.ContinuousLists)
	g.row.catList = make([][]int64, s.CategoricalLists)
	return g
}

func (g *synthGen) next() *synthRow {
	r, rng, s := &g.row, g.rng, g.s
	for i := range r.cont {
		r.cont[i] = float32(rng.Float64()*2 - 1)
	}
	for i := range r.cat {
		r.cat[i] = int64(rng.IntN(s.Cardinality))
	}
	for i := range r.contList {
		n := rng.IntN(s.MaxListLen)
		l := r.contList[i][:0]
		for j := 0; j < n; j++ {
			l = append(l, float32(rng.Float64()*2-1))
		}
		r.contList[i] = l
	}
	for i := range r.catList {
		n := rng.IntN(s.MaxListLen)
		l := r.catList[i][:0]
		for j := 0; j < n; j++ {
			l = append(l, int64(rng.IntN(s.Cardinality)))
		}
		r.catList[i] = l
	}
	r.label = int64(rng.IntN(2))
	return r
}

func (s Synthetic) names() (cont, cat, contList, catList []string) {
	for i := 0; i < s.Continuous; i++ {
		cont = append(cont, "cont"+strconv.Itoa(i))
	}
	for i := 0; i < s.Categorical; i++ {
		cat = append(cat, "cat"+strconv.Itoa(i))
	}
	for i := 0; i < s.ContinuousLists; i++ {
		contList = append(contList, "cont_list"+strconv.Itoa(i))
	}
	for i := 0; i < s.CategoricalLists; i++ {
		catList = append(catList, "cat_list"+strconv.Itoa(i))
	}
	return
}

// Table generates the data set in memory, columns in the order of the
// seed's data frame (cont, cat, cont_list, cat_list, label).
func (s Synthetic) Table() (*Table, error) {
	if s.Rows < 0 {
		return nil, fmt.Errorf("convert: Synthetic.Rows %d < 0", s.Rows)
	}
	contN, catN, clN, kN := s.names()
	var fields []arrow.Field
	for _, n := range contN {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float32})
	}
	for _, n := range catN {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Int64})
	}
	for _, n := range clN {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.ListOf(arrow.PrimitiveTypes.Float32)})
	}
	for _, n := range kN {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)})
	}
	fields = append(fields, arrow.Field{Name: "label", Type: arrow.PrimitiveTypes.Int64})
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	g := newSynthGen(s)
	for i := 0; i < s.Rows; i++ {
		r := g.next()
		c := 0
		for _, v := range r.cont {
			b.Field(c).(*array.Float32Builder).Append(v)
			c++
		}
		for _, v := range r.cat {
			b.Field(c).(*array.Int64Builder).Append(v)
			c++
		}
		for _, l := range r.contList {
			lb := b.Field(c).(*array.ListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.Float32Builder).AppendValues(l, nil)
			c++
		}
		for _, l := range r.catList {
			lb := b.Field(c).(*array.ListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.Int64Builder).AppendValues(l, nil)
			c++
		}
		b.Field(c).(*array.Int64Builder).Append(r.label)
	}
	rec := b.NewRecord()
	defer rec.Release()
	return &Table{Table: array.NewTableFromRecords(schema, []arrow.Record{rec})}, nil
}

// WriteTFRecords streams the data set into a TFRecord file of
// tf.train.Example records (compression "", "ZLIB" or "GZIP"), written
// atomically, and returns the number of records. It holds one row in
// memory, so it can write files of any size.
func (s Synthetic) WriteTFRecords(ctx context.Context, path, compression string) (int64, error) {
	comp, err := tfrecord.ParseCompression(compression)
	if err != nil {
		return 0, err
	}
	w, err := tfrecord.Create(path, tfrecord.WriterOptions{Compression: comp})
	if err != nil {
		return 0, err
	}
	defer w.Abort()
	contN, catN, clN, kN := s.names()
	g := newSynthGen(s)
	ex := example.New()
	var buf []byte
	for i := 0; i < s.Rows; i++ {
		if i%ctxEvery == 0 && ctx.Err() != nil {
			return int64(i), ctx.Err()
		}
		r := g.next()
		for j, n := range contN {
			ex.Features[n] = example.Floats(r.cont[j])
		}
		for j, n := range catN {
			ex.Features[n] = example.Int64s(r.cat[j])
		}
		for j, n := range clN {
			ex.Features[n] = example.Floats(r.contList[j]...)
		}
		for j, n := range kN {
			ex.Features[n] = example.Int64s(r.catList[j]...)
		}
		ex.Features["label"] = example.Int64s(r.label)
		buf = example.MarshalOptions{}.AppendExample(buf[:0], ex)
		if err := w.Write(buf); err != nil {
			return int64(i), err
		}
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return int64(s.Rows), nil
}
