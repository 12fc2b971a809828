// Package display is the one display API of gopherlab: cells and stdlib
// packages build MIME bundles (HTML, Markdown, SVG, images, tables, charts,
// progress bars) and publish them to the notebook frontend.
//
// # Bundles and results
//
// HTML, Markdown, LaTeX, Text, SVG, PNG, JPEG, Image, JSON and Bundle return
// a MIMEBundle; as the last expression of a cell it becomes the cell's
// result. Render picks the richest rendering of any value (Renderer types,
// Arrow records and tables, slices of structs, maps, images, errors,
// Stringers) and is what the kernel uses for cell results. Every bundle
// carries "text/plain".
//
// # Publishing
//
// Show publishes a value as display_data. New publishes it under a fresh
// display ID and returns a Handle whose Update replaces it in place
// (update_display_data); Clear sends clear_output. All of them may be called
// from any goroutine.
//
// # Tables, charts, progress
//
// TableOf and NewTable build a Table shown like pandas' df.head(). LineChart,
// ScatterChart, BarChart, Histogram and Heatmap start a fluent Chart whose
// bundle holds a Vega-Lite v5 spec and an SVG drawn with gonum plot.
// NewProgress draws a rate-limited progress bar updated in place.
//
// # Where output goes
//
// Display calls go to the current Publisher. Inside a kernel it is the
// kernel's iopub channel (installed with SetPublisher); anywhere else (go
// test, a CLI) the default publisher writes plain text to stdout, drawing
// progress bars as one '\r'-rewritten line on a terminal, and never blocks
// on its own or panics. Discard drops everything, for silent executions.
package display
