package demo

import (
	"embed"
	"io/fs"
	"path"

	"github.com/gatehouse/gatehouse/internal/catalog"
)

// catalogFS holds the demo catalog: the YAML an IAM team would keep under version control.
//
//go:embed catalog/*.yaml
var catalogFS embed.FS

// CatalogFiles returns the demo catalog's files in name order, as catalog.Load would read them
// from a directory.
func CatalogFiles() []catalog.File {
	entries, err := fs.ReadDir(catalogFS, "catalog")
	if err != nil {
		panic("demo: embedded catalog: " + err.Error()) // cannot happen: embedded at build time
	}
	files := make([]catalog.File, 0, len(entries))
	for _, e := range entries { // ReadDir sorts by name
		b, err := catalogFS.ReadFile(path.Join("catalog", e.Name()))
		if err != nil {
			panic("demo: embedded catalog: " + err.Error())
		}
		files = append(files, catalog.File{Name: path.Join("demo", e.Name()), Content: b})
	}
	return files
}
