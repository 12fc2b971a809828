package display

// MIMEBundle is one rendering of a value in several MIME types, as Jupyter's
// display_data and execute_result messages carry it. Data always holds
// "text/plain" when built by this package.
type MIMEBundle struct {
	// Data maps a MIME type ("text/html", "image/png", ...) to its content:
	// a string for text types, base64 text for binary images, or a JSON value.
	Data map[string]any
	// Metadata maps a MIME type to its metadata (for example width, height).
	Metadata map[string]any
}

// Renderer is implemented by values that know how to show themselves. A type
// defined in a notebook cell may implement it too.
type Renderer interface {
	MimeBundle() map[string]any
}
