package display

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

func testImage() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for x := 0; x < 4; x++ {
		for y := 0; y < 3; y++ {
			img.Set(x, y, color.RGBA{uint8(60 * x), uint8(80 * y), 200, 255})
		}
	}
	return img
}

func TestBundlesGolden(t *testing.T) {
	var pngData, jpegData bytes.Buffer
	if err := png.Encode(&pngData, testImage()); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpegData, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		b    MIMEBundle
	}{
		{"html", HTML(`<h3>Results</h3><p>accuracy <b>0.93</b> &amp; loss 0.2</p>`)},
		{"markdown", Markdown("# Title\n\n*emphasis* and `code`")},
		{"latex", LaTeX(`\frac{a}{b} = \sqrt{c}`)},
		{"latex_delimited", LaTeX(`$E = mc^2$`)},
		{"text", Text("just text")},
		{"svg", SVG(`<?xml version="1.0"?>` + "\n" + `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>`)},
		{"png", PNG(pngData.Bytes())},
		{"jpeg", JPEG(jpegData.Bytes())},
		{"image", Image(testImage())},
		{"json", JSON(map[string]any{"model": "resnet", "layers": []int{1, 2}, "html": "<b>"})},
		{"json_scalar", JSON(42)},
		{"bundle", Bundle(map[string]any{"application/x-custom": map[string]any{"a": 1}, "image/png": pngData.Bytes()}).WithSize("image/png", 40, 30)},
		{"error", Render(errors.New(`open "x.csv": <no such file> & more`))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := c.b.Data[MIMEPlain].(string); !ok {
				t.Errorf("bundle has no text/plain string: %v", c.b.Data)
			}
			golden(t, "bundle_"+c.name, bundleText(c.b))
		})
	}
}

func TestImageBundlesCarryTheImage(t *testing.T) {
	b := Image(testImage())
	raw, err := base64.StdEncoding.DecodeString(b.Data[MIMEPNG].(string))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 4 || img.Bounds().Dy() != 3 {
		t.Errorf("decoded %v, want 4×3", img.Bounds())
	}
	if got := b.PlainText(); got != "<PNG image 4×3>" {
		t.Errorf("text/plain = %q", got)
	}
}

func TestBadImageDataIsReportedAsText(t *testing.T) {
	var jpegData bytes.Buffer
	if err := jpeg.Encode(&jpegData, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		b    MIMEBundle
		want string
	}{
		{"garbage png", PNG([]byte("not an image")), "not a PNG image"},
		{"jpeg as png", PNG(jpegData.Bytes()), "data is a jpeg image"},
		{"empty jpeg", JPEG(nil), "not a JPEG image"},
	} {
		if _, ok := c.b.Data[MIMEPNG]; ok {
			t.Errorf("%s: bundle carries image/png", c.name)
		}
		if _, ok := c.b.Data[MIMEJPEG]; ok {
			t.Errorf("%s: bundle carries image/jpeg", c.name)
		}
		if !strings.Contains(c.b.PlainText(), c.want) {
			t.Errorf("%s: text/plain = %q, want it to mention %q", c.name, c.b.PlainText(), c.want)
		}
	}
}

func TestJSONUnencodable(t *testing.T) {
	b := JSON(map[string]any{"f": func() {}})
	if _, ok := b.Data[MIMEJSON]; ok {
		t.Fatal("bundle carries application/json for an unencodable value")
	}
	if !strings.Contains(b.PlainText(), "cannot encode JSON") {
		t.Errorf("text/plain = %q", b.PlainText())
	}
}

func TestHTMLPlainTextFallback(t *testing.T) {
	got := HTML("<div><h1>Title</h1><p>a &lt; b &amp; c</p><br>end</div>").PlainText()
	want := "Title\na < b & c\nend"
	if got != want {
		t.Errorf("plain text = %q, want %q", got, want)
	}
}

func TestBundleAddsPlainTextAndKeepsMetadataImmutable(t *testing.T) {
	b := Bundle(map[string]any{"text/html": "<b>x</b>"})
	if b.PlainText() != "<text/html>" {
		t.Errorf("text/plain = %q", b.PlainText())
	}
	sized := b.WithSize("text/html", 10, 20)
	if b.Metadata != nil {
		t.Errorf("WithSize changed the original: %v", b.Metadata)
	}
	md := sized.Metadata["text/html"].(map[string]any)
	if md["width"] != 10 || md["height"] != 20 {
		t.Errorf("metadata = %v", md)
	}
}

func ExampleHTML() {
	SetPublisher(nil) // outside a kernel: plain text on stdout
	Show(HTML("<b>accuracy</b> 0.93"))
	// Output: accuracy 0.93
}

func ExampleBundle() {
	b := Bundle(map[string]any{
		"text/html":  "<i>custom</i>",
		"text/plain": "custom",
	})
	fmt.Println(b.PlainText(), len(b.Data))
	// Output: custom 2
}

func ExampleJSON() {
	SetPublisher(nil)
	Show(JSON(map[string]int{"epochs": 3}))
	// Output:
	// {
	//   "epochs": 3
	// }
}
