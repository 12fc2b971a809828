package display

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"image"
	_ "image/jpeg" // registers JPEG for DecodeConfig
	"image/png"
	"sort"
	"strings"
	"unicode/utf8"
)

// MIME types this package produces.
const (
	MIMEPlain        = "text/plain"
	MIMEHTML         = "text/html"
	MIMEMarkdown     = "text/markdown"
	MIMELaTeX        = "text/latex"
	MIMESVG          = "image/svg+xml"
	MIMEPNG          = "image/png"
	MIMEJPEG         = "image/jpeg"
	MIMEJSON         = "application/json"
	MIMEVegaLite     = "application/vnd.vegalite.v5+json"
	MIMEDataResource = "application/vnd.dataresource+json"
)

// HTML returns a bundle showing s as HTML. s is trusted markup and is not
// escaped; use html.EscapeString for text you did not write. The plain-text
// part is s with its tags removed.
func HTML(s string) MIMEBundle {
	return MIMEBundle{Data: map[string]any{MIMEHTML: s, MIMEPlain: stripTags(s)}}
}

// Markdown returns a bundle showing s as Markdown; the plain text is s.
func Markdown(s string) MIMEBundle {
	return MIMEBundle{Data: map[string]any{MIMEMarkdown: s, MIMEPlain: s}}
}

// LaTeX returns a bundle showing s as a LaTeX formula. A formula without
// math delimiters ($, $$, \[ or \begin) is wrapped in $$ … $$ so that
// frontends typeset it.
func LaTeX(s string) MIMEBundle {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "$") && !strings.HasPrefix(t, `\[`) && !strings.HasPrefix(t, `\begin`) {
		t = "$$" + t + "$$"
	}
	return MIMEBundle{Data: map[string]any{MIMELaTeX: t, MIMEPlain: s}}
}

// Text returns a bundle holding only plain text.
func Text(s string) MIMEBundle {
	return MIMEBundle{Data: map[string]any{MIMEPlain: s}}
}

// SVG returns a bundle showing the SVG document s. An XML declaration or
// doctype before the <svg> element is dropped so that the image can be
// inlined into HTML.
func SVG(s string) MIMEBundle {
	return MIMEBundle{Data: map[string]any{MIMESVG: inlineSVG(s), MIMEPlain: "<SVG image>"}}
}

// inlineSVG drops whatever precedes the <svg element (XML declaration,
// comments, doctype).
func inlineSVG(s string) string {
	if i := strings.Index(s, "<svg"); i > 0 {
		return s[i:]
	}
	return s
}

// PNG returns a bundle showing PNG-encoded data. If data is not a PNG image
// the bundle holds only a plain-text error.
func PNG(data []byte) MIMEBundle { return encodedImage(MIMEPNG, "png", data) }

// JPEG returns a bundle showing JPEG-encoded data. If data is not a JPEG
// image the bundle holds only a plain-text error.
func JPEG(data []byte) MIMEBundle { return encodedImage(MIMEJPEG, "jpeg", data) }

func encodedImage(mime, format string, data []byte) MIMEBundle {
	cfg, got, err := image.DecodeConfig(bytes.NewReader(data))
	if err == nil && got != format {
		err = fmt.Errorf("data is a %s image", got)
	}
	if err != nil {
		return Text(fmt.Sprintf("display: not a %s image: %v", strings.ToUpper(format), err))
	}
	return MIMEBundle{Data: map[string]any{
		mime:      base64.StdEncoding.EncodeToString(data),
		MIMEPlain: fmt.Sprintf("<%s image %d×%d>", strings.ToUpper(format), cfg.Width, cfg.Height),
	}}
}

// Image returns a bundle showing img, encoded as PNG.
func Image(img image.Image) MIMEBundle {
	if img == nil {
		return Text("<nil image>")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Text("display: cannot encode image: " + err.Error())
	}
	return PNG(buf.Bytes())
}

// JSON returns a bundle showing v as an expandable JSON tree; the plain text
// is v as indented JSON. If v cannot be encoded the bundle holds a
// plain-text error.
func JSON(v any) MIMEBundle {
	raw, err := json.Marshal(v)
	if err != nil {
		return Text("display: cannot encode JSON: " + err.Error())
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return Text("display: cannot encode JSON: " + err.Error())
	}
	// Frontends expect an object or array at the top level.
	switch tree.(type) {
	case map[string]any, []any:
	default:
		tree = []any{tree}
	}
	var ind bytes.Buffer
	_ = json.Indent(&ind, raw, "", "  ")
	return MIMEBundle{Data: map[string]any{MIMEJSON: tree, MIMEPlain: ind.String()}}
}

// Bundle returns a bundle of arbitrary MIME data. Values that are []byte are
// base64-encoded (as Jupyter carries binary data); other values are used as
// given and must encode to JSON. When data has no "text/plain" entry, one
// naming the MIME types is added. Attach metadata with WithMetadata or
// WithSize.
func Bundle(data map[string]any) MIMEBundle {
	b := MIMEBundle{Data: make(map[string]any, len(data)+1)}
	for k, v := range data {
		if raw, ok := v.([]byte); ok {
			v = base64.StdEncoding.EncodeToString(raw)
		}
		b.Data[k] = v
	}
	if _, ok := b.Data[MIMEPlain]; !ok {
		types := make([]string, 0, len(data))
		for k := range data {
			types = append(types, k)
		}
		sort.Strings(types)
		b.Data[MIMEPlain] = "<" + strings.Join(types, ", ") + ">"
	}
	return b
}

// WithMetadata returns a copy of b whose metadata for mime is md.
func (b MIMEBundle) WithMetadata(mime string, md map[string]any) MIMEBundle {
	out := MIMEBundle{Data: b.Data, Metadata: make(map[string]any, len(b.Metadata)+1)}
	for k, v := range b.Metadata {
		out.Metadata[k] = v
	}
	out.Metadata[mime] = md
	return out
}

// WithSize returns a copy of b whose metadata asks frontends to show the
// mime entry (typically an image) with the given width and height in pixels.
func (b MIMEBundle) WithSize(mime string, width, height int) MIMEBundle {
	return b.WithMetadata(mime, map[string]any{"width": width, "height": height})
}

// PlainText returns the "text/plain" entry of b, or "" if it has none.
func (b MIMEBundle) PlainText() string {
	s, _ := b.Data[MIMEPlain].(string)
	return s
}

// withPlain returns b with a "text/plain" entry, adding one if missing.
func withPlain(b MIMEBundle) MIMEBundle {
	if _, ok := b.Data[MIMEPlain]; ok {
		return b
	}
	nb := Bundle(b.Data)
	nb.Metadata = b.Metadata
	return nb
}

// stripTags turns HTML into readable plain text: tags are removed, block
// elements end lines and entities are decoded.
func stripTags(s string) string {
	var out strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			out.WriteString(s)
			break
		}
		out.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			out.WriteString(s[i:])
			break
		}
		tag := strings.ToLower(strings.TrimLeft(s[i+1:i+j], "/"))
		if name, _, _ := strings.Cut(tag, " "); blockTags[name] {
			out.WriteByte('\n')
		}
		s = s[i+j+1:]
	}
	lines := strings.Split(html.UnescapeString(out.String()), "\n")
	kept := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

var blockTags = map[string]bool{"br": true, "p": true, "div": true, "tr": true, "li": true, "h1": true,
	"h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "table": true, "pre": true}

// truncate shortens s to at most n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
