package notebook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJupyterFileRoundTripsByteForByte(t *testing.T) {
	data, err := os.ReadFile("testdata/jupyter.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	nb, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(nb.Cells) != 3 || nb.Cells[1].Source != "fmt.Println(\"hello\")\nx := 42\nx" || *nb.Cells[1].ExecutionCount != 7 {
		t.Fatalf("parsed %+v", nb.Cells[1])
	}
	if nb.Cells[2].Source != "" || nb.Cells[0].ID != "intro-1" {
		t.Fatalf("cells %+v %+v", nb.Cells[0], nb.Cells[2])
	}
	outs := nb.Cells[1].Outputs
	if outs[0]["text"] != "hello\nworld\n" || outs[2]["data"].(map[string]any)["text/html"] != "<b>x</b>" {
		t.Fatalf("multiline values not joined: %v", outs)
	}
	out, err := nb.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, data) {
		t.Fatalf("round trip changed the file:\n%s", out)
	}
}

func TestWriteFileIsAtomicAndReadable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nb.ipynb")
	nb := New()
	nb.Metadata["kernelspec"] = map[string]any{"name": "gopherlab", "display_name": "Go (gopherlab)", "language": "go"}
	c := NewCell("code", "1 + 1\n")
	n := 1
	c.ExecutionCount = &n
	c.Outputs = []Output{Stream("stdout", "a\n"), ExecuteResult(1, map[string]any{"text/plain": "2"}, nil), Error("E", "v", nil)}
	nb.Cells = append(nb.Cells, c, NewCell("markdown", "# hi"))
	if err := nb.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Cells) != 2 || got.Cells[0].Outputs[1]["data"].(map[string]any)["text/plain"] != "2" || got.Cells[0].ID != c.ID {
		t.Fatalf("read back %+v", got.Cells[0])
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp files left: %v", entries)
	}
	// An invalid notebook is refused and the existing file is untouched.
	before, _ := os.ReadFile(path)
	nb.Cells[1].Type = "bogus"
	if err := nb.WriteFile(path); err == nil || !strings.Contains(err.Error(), "cell 1") {
		t.Fatalf("invalid write: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("failed write modified the file")
	}
}

func TestUpgradeAddsIDs(t *testing.T) {
	nb, err := Parse([]byte(`{"nbformat":4,"nbformat_minor":2,"metadata":{},"cells":[{"cell_type":"code","metadata":{},"source":"x","outputs":[],"execution_count":null},{"cell_type":"markdown","metadata":{},"source":["a"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if nb.NBFormatMinor != 5 || nb.Cells[0].ID == "" || nb.Cells[0].ID == nb.Cells[1].ID {
		t.Fatalf("upgrade: minor %d ids %q %q", nb.NBFormatMinor, nb.Cells[0].ID, nb.Cells[1].ID)
	}
}

func TestValidationErrors(t *testing.T) {
	cell := func(s string) string {
		return `{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[` + s + `]}`
	}
	code := `{"id":"c1","cell_type":"code","metadata":{},"source":"","outputs":%s,"execution_count":null}`
	withOut := func(o string) string { return cell(strings.Replace(code, "%s", "["+o+"]", 1)) }
	tests := []struct{ name, json, want string }{
		{"not json", `{"cells": [`, "not a notebook"},
		{"missing cells", `{"nbformat":4,"nbformat_minor":5,"metadata":{}}`, `missing required field "cells"`},
		{"missing metadata", `{"nbformat":4,"nbformat_minor":5,"cells":[]}`, `missing required field "metadata"`},
		{"nbformat 3", `{"nbformat":3,"nbformat_minor":0,"metadata":{},"cells":[]}`, "version 3 is not supported"},
		{"cell without source", cell(`{"id":"a","cell_type":"markdown","metadata":{}}`), `cell 0: missing required field "source"`},
		{"code without outputs", cell(`{"id":"a","cell_type":"code","metadata":{},"source":"","execution_count":null}`), `code cell: missing required field "outputs"`},
		{"unknown cell type", cell(`{"id":"a","cell_type":"heading","metadata":{},"source":""}`), `unknown type "heading"`},
		{"bad id", cell(`{"id":"has space","cell_type":"raw","metadata":{},"source":""}`), "field id"},
		{"duplicate id", cell(`{"id":"a","cell_type":"raw","metadata":{},"source":""},{"id":"a","cell_type":"raw","metadata":{},"source":""}`), "cell 1: field id: \"a\" already used by cell 0"},
		{"bad source type", cell(`{"id":"a","cell_type":"raw","metadata":{},"source":7}`), "field source"},
		{"stream without text", withOut(`{"output_type":"stream","name":"stdout"}`), `output 0: stream output: missing required field "text"`},
		{"result without count", withOut(`{"output_type":"execute_result","data":{},"metadata":{}}`), `missing required field "execution_count"`},
		{"error traceback not list", withOut(`{"output_type":"error","ename":"E","evalue":"v","traceback":"x"}`), "traceback: want a list"},
		{"unknown output", withOut(`{"output_type":"weird"}`), `unknown output_type "weird"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want containing %q", err, tt.want)
			}
		})
	}
}

func TestReadFileNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.ipynb")
	os.WriteFile(path, []byte("{}"), 0o644)
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v", err)
	}
}

func TestMultilineOnWrite(t *testing.T) {
	nb := New()
	c := NewCell("code", "x")
	c.Outputs = []Output{
		Stream("stdout", "a\nb"),
		DisplayData(map[string]any{"text/plain": "p\nq\n", "image/png": "aGVsbG8=\nd29ybGQ=", "application/json": map[string]any{"k": "v"}, "image/svg+xml": "<svg>\n</svg>"}, nil),
	}
	nb.Cells = append(nb.Cells, c)
	out, err := nb.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Cells []struct {
			Outputs []map[string]any `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	o := raw.Cells[0].Outputs
	data := o[1]["data"].(map[string]any)
	if fmt.Sprint(o[0]["text"]) != "[a\n b]" || fmt.Sprint(data["text/plain"]) != "[p\n q\n]" || fmt.Sprint(data["image/svg+xml"]) != "[<svg>\n </svg>]" {
		t.Fatalf("not split: %v %v", o[0]["text"], data)
	}
	if _, ok := data["image/png"].(string); !ok {
		t.Fatalf("base64 image split: %v", data["image/png"])
	}
	// The in-memory outputs are unchanged, and reading joins the lines.
	if c.Outputs[0]["text"] != "a\nb" {
		t.Fatal("MarshalJSON modified the outputs")
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if back.Cells[0].Outputs[1]["data"].(map[string]any)["text/plain"] != "p\nq\n" {
		t.Fatalf("read back %v", back.Cells[0].Outputs[1])
	}
}
