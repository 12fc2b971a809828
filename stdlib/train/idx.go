package train

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// IDX is the content of an IDX file (the MNIST file format): unsigned
// bytes with their dimensions.
type IDX struct {
	// Dims lists the dimensions, outermost first (images: n, rows, cols).
	Dims []int
	// Data holds the values, row-major.
	Data []byte
}

// ReadIDX reads an IDX file of unsigned bytes (type 0x08), plain or
// gzip-compressed (detected from the content).
func ReadIDX(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("train: %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("train: %s: reading IDX magic: %w", path, err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("train: %s: not an IDX file (magic %x)", path, magic)
	}
	if magic[2] != 0x08 {
		return nil, fmt.Errorf("train: %s: IDX element type 0x%02x not supported (only unsigned bytes, 0x08)", path, magic[2])
	}
	nd := int(magic[3])
	if nd == 0 || nd > 8 {
		return nil, fmt.Errorf("train: %s: bad IDX dimension count %d", path, nd)
	}
	dims := make([]int, nd)
	total := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("train: %s: reading dimension %d: %w", path, i, err)
		}
		dims[i] = int(d)
		total *= int(d)
		if total > 1<<31 {
			return nil, fmt.Errorf("train: %s: IDX too large (%v)", path, dims[:i+1])
		}
	}
	data := make([]byte, total)
	if n, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("train: %s: IDX truncated: %d of %d values: %w", path, n, total, err)
	}
	return &IDX{Dims: dims, Data: data}, nil
}

// Tensor converts the values to float32 multiplied by scale (1.0/255 maps
// pixels to [0, 1]).
func (x *IDX) Tensor(scale float32) *Tensor {
	t := Zeros(x.Dims...)
	for i, v := range x.Data {
		t.Data[i] = float32(v) * scale
	}
	return t
}

// DefaultFashionMNISTDir is where Debian's dataset-fashion-mnist package
// installs the data.
const DefaultFashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// FashionMNISTClasses names the ten Fashion-MNIST labels.
var FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// FashionMNIST loads Fashion-MNIST (or MNIST: same file names) from dir
// (DefaultFashionMNISTDir when empty): 60000 training and 10000 test
// images of shape 28×28×1 scaled to [0, 1], labels 0–9. Files may be
// gzip-compressed (.gz) or not.
func FashionMNIST(dir string) (trainSet, testSet *TensorDataset, err error) {
	if dir == "" {
		dir = DefaultFashionMNISTDir
	}
	load := func(prefix string) (*TensorDataset, error) {
		img, err := readIDXAny(filepath.Join(dir, prefix+"-images-idx3-ubyte"))
		if err != nil {
			return nil, err
		}
		lab, err := readIDXAny(filepath.Join(dir, prefix+"-labels-idx1-ubyte"))
		if err != nil {
			return nil, err
		}
		if len(img.Dims) != 3 || len(lab.Dims) != 1 || img.Dims[0] != lab.Dims[0] {
			return nil, fmt.Errorf("train: %s: images %v and labels %v do not match", dir, img.Dims, lab.Dims)
		}
		x := img.Tensor(1.0 / 255)
		x.Shape = []int{img.Dims[0], img.Dims[1], img.Dims[2], 1}
		return NewTensorDataset(lab.Tensor(1), x)
	}
	if trainSet, err = load("train"); err != nil {
		return nil, nil, err
	}
	if testSet, err = load("t10k"); err != nil {
		return nil, nil, err
	}
	return trainSet, testSet, nil
}

func readIDXAny(base string) (*IDX, error) {
	for _, p := range []string{base + ".gz", base} {
		if _, err := os.Stat(p); err == nil {
			return ReadIDX(p)
		}
	}
	return nil, fmt.Errorf("train: %s(.gz) not found (install Debian package dataset-fashion-mnist or pass the directory)", base)
}
