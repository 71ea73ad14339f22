package api

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
)

// yamlTypes are the Content-Types of a YAML catalog body; there is no single registered one in
// common use, so all three that tools send are accepted.
var yamlTypes = []string{"application/yaml", "application/x-yaml", "text/yaml"}

// defaultCatalogFile names a YAML body in problems when X-Catalog-File does not.
const defaultCatalogFile = "catalog.yaml"

// readCatalog reads a plan or apply body: one YAML file, or the JSON form with several.
func readCatalog(r *http.Request) (service.CatalogRequest, []catalog.File, error) {
	var in service.CatalogRequest
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return in, nil, gatehouse.Errorf(gatehouse.EINVALID,
			"Content-Type: send the catalog as application/yaml, or as application/json {\"files\": [{\"name\", \"content\"}]}")
	}
	switch {
	case mt == "application/json":
		if err := decodeJSON(r, &in); err != nil {
			return in, nil, err
		}
		if len(in.Files) == 0 {
			return in, nil, gatehouse.Errorf(gatehouse.EINVALID, "files: at least one catalog file is required")
		}
		files := make([]catalog.File, len(in.Files))
		seen := map[string]bool{}
		for i, f := range in.Files {
			name := strings.TrimSpace(f.Name)
			if err := checkFileName(name); err != nil {
				return in, nil, gatehouse.Errorf(gatehouse.EINVALID, "files[%d].name: %v", i, err)
			}
			if seen[name] {
				return in, nil, gatehouse.Errorf(gatehouse.EINVALID, "files[%d].name: %q is given twice", i, name)
			}
			seen[name] = true
			files[i] = catalog.File{Name: name, Content: []byte(f.Content)}
		}
		return in, files, nil
	case isYAML(mt):
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return in, nil, fmt.Errorf("read catalog body: %w", err)
		}
		name := defaultCatalogFile
		if h := strings.TrimSpace(r.Header.Get("X-Catalog-File")); h != "" {
			if err := checkFileName(h); err != nil {
				return in, nil, gatehouse.Errorf(gatehouse.EINVALID, "X-Catalog-File: %v", err)
			}
			name = h
		}
		return in, []catalog.File{{Name: name, Content: data}}, nil
	}
	return in, nil, gatehouse.Errorf(gatehouse.EINVALID,
		"Content-Type: %q is not accepted; send application/yaml or application/json", mt)
}

// checkFileName accepts a catalog file name. The name is never opened on the server: it only
// labels problems (file:line) and the catalog digest, so it is kept as the client gave it (a
// relative path the user can open), but bounded and free of control characters, which would
// garble the messages and logs that quote it.
func checkFileName(name string) error {
	if name == "" {
		return fmt.Errorf("required")
	}
	if len(name) > 256 {
		return fmt.Errorf("longer than 256 bytes")
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("%q contains a control character", name)
		}
	}
	return nil
}

func isYAML(mt string) bool {
	for _, t := range yamlTypes {
		if mt == t {
			return true
		}
	}
	return false
}

func (a *api) planCatalog(w http.ResponseWriter, r *http.Request) error {
	_, files, err := readCatalog(r)
	if err != nil {
		return err
	}
	plan, err := a.svc.PlanCatalog(r.Context(), principal(r), files)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, plan)
}

func (a *api) applyCatalog(w http.ResponseWriter, r *http.Request) error {
	in, files, err := readCatalog(r)
	if err != nil {
		return err
	}
	// The options may come as query parameters too (curl with a YAML body); the body's win.
	var q struct {
		Prune              bool     `query:"prune"`
		Reason             string   `query:"reason"`
		RebindSecrets      []string `query:"rebind_secrets,list"`
		ConfirmRevocations string   `query:"confirm_revocations"`
	}
	if err := decodeQuery(r, &q); err != nil {
		return err
	}
	prune := in.Prune || q.Prune
	reason := in.Reason
	if reason == "" {
		reason = q.Reason
	}
	rebind := append(in.RebindSecrets, q.RebindSecrets...)
	confirm := in.ConfirmRevocations
	if confirm == "" {
		confirm = q.ConfirmRevocations
	}
	res, err := a.svc.ApplyCatalogWith(r.Context(), principal(r), files, service.CatalogApply{
		Prune: prune, Reason: reason, RebindSecrets: rebind, ConfirmRevocations: confirm,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (a *api) getSettings(w http.ResponseWriter, r *http.Request) error {
	s, err := a.svc.GetSettings(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s)
}

func (a *api) getCatalog(w http.ResponseWriter, r *http.Request) error {
	c, err := a.svc.GetCatalog(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (a *api) listSystems(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.ListSystems(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(list))
}

func (a *api) getSystem(w http.ResponseWriter, r *http.Request) error {
	s, err := a.svc.GetSystem(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s)
}

func (a *api) listEntitlements(w http.ResponseWriter, r *http.Request) error {
	var f gatehouse.EntitlementFilter
	if err := decodeQuery(r, &f); err != nil {
		return err
	}
	page, err := a.svc.ListEntitlements(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(page))
}

func (a *api) getEntitlement(w http.ResponseWriter, r *http.Request) error {
	e, err := a.svc.GetEntitlement(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

func (a *api) listRoles(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.ListRoles(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(list))
}

func (a *api) getRole(w http.ResponseWriter, r *http.Request) error {
	role, err := a.svc.GetRole(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, role)
}

func (a *api) listSoDRules(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.ListSoDRules(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(list))
}

func (a *api) getSoDRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := a.svc.GetSoDRule(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rule)
}
