package demo

import (
	"io/fs"
	"path"

	"github.com/gatehouse/gatehouse/examples"
	"github.com/gatehouse/gatehouse/internal/catalog"
)

// CatalogFiles returns the demo catalog's files in name order, as catalog.Load would read them
// from examples/catalog: the demo seeds exactly the example catalog, so that `gatehouse catalog
// plan examples/catalog` on a fresh demo shows no changes.
func CatalogFiles() []catalog.File {
	entries, err := fs.ReadDir(examples.Catalog, "catalog")
	if err != nil {
		panic("demo: embedded catalog: " + err.Error()) // cannot happen: embedded at build time
	}
	files := make([]catalog.File, 0, len(entries))
	for _, e := range entries { // ReadDir sorts by name
		b, err := examples.Catalog.ReadFile(path.Join("catalog", e.Name()))
		if err != nil {
			panic("demo: embedded catalog: " + err.Error())
		}
		files = append(files, catalog.File{Name: path.Join("examples", "catalog", e.Name()), Content: b})
	}
	return files
}
