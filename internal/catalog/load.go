package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// File is one catalog file: its name (for messages) and its bytes.
type File struct {
	Name    string `json:"name"`
	Content []byte `json:"content"`
}

// maxFileSize bounds one catalog file. A catalog of 5,000 entitlements is about 1.5 MB; a file
// far larger is a mistake (a binary, a log), and reading it whole would cost memory for nothing.
const maxFileSize = 64 << 20

// Load reads a catalog from path: a single file, or every *.yaml and *.yml file directly in a
// directory, in name order (subdirectories are not read, so a directory can also hold a README
// or tests). Each File's Name is path joined with the file name, so problems point at a path
// the user can open.
func Load(path string) ([]File, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if !info.IsDir() {
		f, err := readFile(path)
		if err != nil {
			return nil, err
		}
		return []File{f}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	var files []File
	for _, e := range entries { // ReadDir sorts by name
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		f, err := readFile(filepath.Join(path, e.Name()))
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("catalog: no *.yaml or *.yml files in directory %s", path)
	}
	return files, nil
}

func readFile(name string) (File, error) {
	info, err := os.Stat(name)
	if err != nil {
		return File{}, fmt.Errorf("catalog: %w", err)
	}
	if info.Size() > maxFileSize {
		return File{}, fmt.Errorf("catalog: %s is %d bytes; a catalog file may have at most %d", name, info.Size(), maxFileSize)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return File{}, fmt.Errorf("catalog: %w", err)
	}
	return File{Name: name, Content: b}, nil
}

// Digest identifies a catalog's source: SHA-256 over each file's base name and content, in
// order, each length-prefixed so no two different file sets hash alike. Base names, not the
// paths as given, so the same checkout planned from two working directories (or uploaded to
// the API, which sees no paths) has the same digest.
func Digest(files []File) string {
	h := sha256.New()
	for _, f := range files {
		for _, part := range [][]byte{[]byte(filepath.Base(f.Name)), f.Content} {
			h.Write([]byte(strconv.Itoa(len(part))))
			h.Write([]byte{':'})
			h.Write(part)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
