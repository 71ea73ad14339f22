package jml

import "slices"

// Page says which of a plan's items an answer carries: the first Limit items of each class after
// skipping Offset of them (of Class only, when it is set). The summary always counts every item;
// NextOffset, when not 0, is the Offset that asks for the next page.
type Page struct {
	Class      Class `json:"class,omitempty"`
	Offset     int   `json:"offset"`
	Limit      int   `json:"limit"`
	Total      int   `json:"total"`    // the items the page is taken from (every class, or Class)
	Returned   int   `json:"returned"` // the items in this answer
	NextOffset int   `json:"next_offset,omitempty"`
}

// Count is the number of items of class c in the plan, from its summary (a kept page of items
// does not have them all).
func (s Summary) Count(c Class) int {
	switch c {
	case Joiner:
		return s.Joiners
	case PreHire:
		return s.PreHires
	case NewTerminated:
		return s.NewTerminated
	case Mover:
		return s.Movers
	case Updated:
		return s.Updated
	case Leaver:
		return s.Leavers
	case Leave:
		return s.Leave
	case Returner:
		return s.Returners
	case Rehire:
		return s.Rehires
	case Missing:
		return s.Missing
	case Skipped:
		return s.Skipped
	}
	return 0
}

// Classes are the classes of plan items, in the order a plan lists them.
func Classes() []Class { return slices.Clone(classOrder) }

// Window cuts the plan's items (sorted, as a plan keeps them) to one page: of each class (or of
// class only, when it is not ""), the items from offset to offset+limit. It records the page
// in p.Page. A plan made with Options.Keep ≥ offset+limit holds every item a page needs.
func (p *Plan) Window(class Class, offset, limit int) {
	pg := &Page{Class: class, Offset: offset, Limit: limit}
	kept := p.Items[:0]
	var cur Class
	n := 0
	for _, it := range p.Items {
		if it.Class != cur {
			cur, n = it.Class, 0
		}
		if (class == "" || it.Class == class) && n >= offset && n < offset+limit {
			kept = append(kept, it)
		}
		n++
	}
	clear(p.Items[len(kept):])
	p.Items = kept
	more := false
	for _, c := range classOrder {
		if class != "" && c != class {
			continue
		}
		total := p.Summary.Count(c)
		pg.Total += total
		if total > offset+limit {
			more = true
		}
	}
	pg.Returned = len(kept)
	if more {
		pg.NextOffset = offset + limit
	}
	p.Page = pg
}
