package web

import (
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// pageNames are the templates in templates/ that are whole pages; each is parsed together with
// layout.html (which defines "layout" and shared pieces) into a set of its own, so that every
// page can define "content" without clashing with the others.
var pageNames = []string{
	"login", "error", "home", "identities", "identity",
	"systems", "system", "entitlements", "entitlement", "roles", "role", "sod", "audit",
	"hr", "hrplan", "hrimport", "operations", "drift", "tasks",
	"requestnew", "requests", "request", "approvals", "requestqueue",
}

func (h *handler) parseTemplates() (map[string]*template.Template, error) {
	base, err := template.New("").Funcs(h.funcs()).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFS, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", name, err)
		}
		pages[name] = t
	}
	// A template file that is not listed is a page nobody can reach; catch it here rather than
	// in production.
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		n := strings.TrimSuffix(path.Base(f), ".html")
		if _, ok := pages[n]; !ok && n != "layout" {
			return nil, fmt.Errorf("web: template %s is not in pageNames", f)
		}
	}
	return pages, nil
}

func (h *handler) funcs() template.FuncMap {
	return template.FuncMap{
		"asset": func(name string) string { return h.assets[name] },
		// Times are shown in UTC: an audit trail read by people in several time zones must
		// say the same thing to all of them.
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		// short is the prefix of a hash that people compare by eye; the full value is in a title.
		"short":    func(s string) string { return s[:min(len(s), 12)] },
		"until":    func(t time.Time) string { return relative(h.svc.Now(), t) },
		"duration": humanDuration,
		"causeURL": causeURL,
		// elapsed is how long an operation took from the desired-state change to the target's
		// confirmation: time-to-provision, as people read it ("1.2s", "3m10s").
		"elapsed": func(from time.Time, to *time.Time) string {
			if to == nil || from.IsZero() || to.Before(from) {
				return ""
			}
			d := to.Sub(from)
			switch {
			case d < time.Second:
				return d.Round(time.Millisecond).String()
			case d < time.Minute:
				return d.Round(100 * time.Millisecond).String()
			}
			return d.Round(time.Second).String()
		},
		"entURL": func(id string) string { return objectURL("entitlement", id) },
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
		"plural64": func(n int64, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
		"title": func(s string) string {
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
	}
}

// relative says how far t is from now in the largest sensible unit ("in 3 days", "2 hours ago").
func relative(now, t time.Time) string {
	d := t.Sub(now)
	future := d >= 0
	if !future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// humanDuration writes a catalog duration the way people say it: "30 days", "8 hours", "90m".
func humanDuration(d gatehouse.Duration) string {
	t := time.Duration(d)
	switch {
	case t >= 24*time.Hour && t%(24*time.Hour) == 0:
		return plural(int(t/(24*time.Hour)), "day")
	case t >= time.Hour && t%time.Hour == 0:
		return plural(int(t/time.Hour), "hour")
	}
	return t.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// pageURL is the URL of the next page of a list: the current filters plus the cursor.
func pageURL(base string, q url.Values, cursor string) string {
	v := url.Values{}
	for k, vals := range q {
		if k == "cursor" {
			continue
		}
		for _, x := range vals {
			if x != "" {
				v.Add(k, x)
			}
		}
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if len(v) == 0 {
		return base
	}
	return base + "?" + v.Encode()
}
