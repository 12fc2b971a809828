package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

//go:generate go run ./logogen -o .

//go:embed logo-32x32.png
var logo32 []byte

//go:embed logo-64x64.png
var logo64 []byte

// kernelSpec is a Jupyter kernel.json. The template may hold only these
// fields, so that a misspelt key is caught instead of silently ignored.
type kernelSpec struct {
	Argv          []string       `json:"argv"`
	DisplayName   string         `json:"display_name"`
	Language      string         `json:"language"`
	InterruptMode string         `json:"interrupt_mode,omitempty"`
	Env           map[string]any `json:"env,omitempty"`
	Metadata      map[string]any `json:"metadata,omitempty"`
}

// renderKernelSpec turns the repository's kernel.json template into the
// installed one: argv[0] becomes the absolute path of the binary.
func renderKernelSpec(template []byte, binPath string) ([]byte, error) {
	var spec kernelSpec
	dec := json.NewDecoder(bytes.NewReader(template))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("kernel.json template: %w", err)
	}
	if len(spec.Argv) == 0 {
		return nil, errors.New("kernel.json template: argv is empty")
	}
	if !filepath.IsAbs(binPath) {
		return nil, fmt.Errorf("kernel.json: binary path %q is not absolute", binPath)
	}
	spec.Argv[0] = binPath
	out, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// installKernelspec writes kernel.json and the logos into the kernelspec dir.
func installKernelspec(cfg config, rep *reporter) error {
	tmpl, err := os.ReadFile(filepath.Join(cfg.src, "kernel.json"))
	if err != nil {
		return fmt.Errorf("reading the kernel.json template: %w", err)
	}
	spec, err := renderKernelSpec(tmpl, cfg.binPath())
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{"kernel.json", spec},
		{"logo-32x32.png", logo32},
		{"logo-64x64.png", logo64},
	}
	for _, f := range files {
		p := filepath.Join(cfg.specDir(), f.name)
		changed, err := writeFileAtomic(p, f.data, 0o644)
		if err != nil {
			return fmt.Errorf("installing the kernelspec: %w", err)
		}
		if changed {
			rep.did("installed kernelspec file %s", p)
		} else {
			rep.unchanged("kernelspec file %s", p)
		}
	}
	return nil
}
