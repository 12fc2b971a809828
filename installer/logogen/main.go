// Command logogen draws the gopherlab kernel logos (logo-32x32.png and
// logo-64x64.png): a Go-blue rounded square with a white bold "Go" and a
// pair of gopher eyes above it. The installer embeds the PNGs it writes;
// run it with `go generate ./installer`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

var (
	goBlue = color.NRGBA{0x00, 0xAD, 0xD8, 0xFF}
	white  = color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
	ink    = color.NRGBA{0x1B, 0x1B, 0x2F, 0xFF}
)

func main() {
	out := flag.String("o", ".", "directory the PNGs are written to")
	flag.Parse()
	for _, size := range []int{32, 64} {
		img, err := drawLogo(size)
		if err != nil {
			log.Fatal(err)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			log.Fatal(err)
		}
		name := filepath.Join(*out, fmt.Sprintf("logo-%dx%d.png", size, size))
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// drawLogo renders the logo at size×size pixels. Shapes are drawn at 4×
// resolution and box-filtered down, which gives smooth edges without any
// dependency beyond x/image.
func drawLogo(size int) (image.Image, error) {
	const ss = 4
	big := size * ss
	hi := image.NewNRGBA(image.Rect(0, 0, big, big))
	r := float64(big) * 0.22 // corner radius
	for y := 0; y < big; y++ {
		for x := 0; x < big; x++ {
			if insideRoundedSquare(float64(x)+0.5, float64(y)+0.5, float64(big), r) {
				hi.SetNRGBA(x, y, goBlue)
			}
		}
	}
	// Gopher eyes: two white discs with dark pupils in the upper third.
	eyeR := float64(big) * 0.12
	for _, cx := range []float64{0.33, 0.67} {
		disc(hi, cx*float64(big), 0.27*float64(big), eyeR, white)
		disc(hi, cx*float64(big)+eyeR*0.3, 0.27*float64(big), eyeR*0.45, ink)
	}
	// "Go" in Go Bold across the lower part.
	f, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, err
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: float64(big) * 0.5, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, err
	}
	defer face.Close()
	d := &font.Drawer{Dst: hi, Src: image.NewUniform(white), Face: face}
	w := d.MeasureString("Go")
	d.Dot = fixed.Point26_6{
		X: (fixed.I(big) - w) / 2,
		Y: fixed.I(int(float64(big) * 0.88)),
	}
	d.DrawString("Go")

	out := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var rs, gs, bs, as float64
			for j := 0; j < ss; j++ {
				for i := 0; i < ss; i++ {
					c := hi.NRGBAAt(x*ss+i, y*ss+j)
					a := float64(c.A)
					rs += float64(c.R) * a
					gs += float64(c.G) * a
					bs += float64(c.B) * a
					as += a
				}
			}
			if as == 0 {
				continue
			}
			out.SetNRGBA(x, y, color.NRGBA{
				R: uint8(math.Round(rs / as)),
				G: uint8(math.Round(gs / as)),
				B: uint8(math.Round(bs / as)),
				A: uint8(math.Round(as / (ss * ss))),
			})
		}
	}
	return out, nil
}

func insideRoundedSquare(x, y, side, r float64) bool {
	cx := math.Min(math.Max(x, r), side-r)
	cy := math.Min(math.Max(y, r), side-r)
	return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
}

func disc(img draw.Image, cx, cy, r float64, c color.Color) {
	for y := int(cy - r); y <= int(cy+r)+1; y++ {
		for x := int(cx - r); x <= int(cx+r)+1; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			if dx*dx+dy*dy <= r*r {
				img.Set(x, y, c)
			}
		}
	}
}
