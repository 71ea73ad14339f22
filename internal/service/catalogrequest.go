package service

import "github.com/gatehouse/gatehouse/internal/catalog"

// CatalogRequest is the JSON body of a catalog plan or apply (docs/api.md): the catalog's files
// and, for an apply, its options. A plan takes no options.
type CatalogRequest struct {
	Files []CatalogFile `json:"files"`
	CatalogApply
}

// CatalogFile is one catalog file as it crosses the API: its name (problems are located in it,
// and the catalog digest covers it) and its YAML as text.
type CatalogFile struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// CatalogFilesOf gives files read with catalog.Load the form they cross the API in.
func CatalogFilesOf(files []catalog.File) []CatalogFile {
	out := make([]CatalogFile, len(files))
	for i, f := range files {
		out[i] = CatalogFile{Name: f.Name, Content: string(f.Content)}
	}
	return out
}
