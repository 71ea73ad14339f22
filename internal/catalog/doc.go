// Package catalog is the catalog as code: the YAML format of docs/catalog.md (systems, entitlements,
// roles with birthright rules, SoD rules, settings), read from a file or a directory of files,
// validated offline with every problem reported at its file and line, compared with the stored
// catalog (plan), and written to the store with an audit event per change (apply).
//
// The flow is Load → Parse → MakePlan → Apply:
//
//   - Load reads a file, or every *.yaml / *.yml file of a directory in name order.
//   - Parse merges the files (lists concatenated, settings from the one file that has them),
//     applies defaults and validates: types, unknown fields (typos), required fields, ids,
//     enumerations, references, durations, inline secrets, birthright rules (CEL, via package
//     policy). It needs no server, so it runs in CI on every pull request. Any problem makes
//     it return Problems, all of them, sorted by file and line.
//   - MakePlan checks owner and approver emails against identities (Problems again, with
//     file:line), pins each to the identity it names (the …ID fields of the settings, systems
//     and entitlements: powers follow the person, not the address; Plan.Pins lists new and
//     moved pins), then diffs the stored catalog against the document.
//   - Apply writes the plan in the caller's transaction, refusing to revoke access implicitly:
//     removing an entitlement that people hold needs Prune.
//
// Format goes the other way: it writes a catalog (the stored one, to start managing it as code)
// as YAML that parses back to the same catalog.
//
// The document is the whole desired catalog: an object missing from it is removed, and a
// catalog without settings resets the settings to their defaults.
//
// Defaults Parse applies: settings are gatehouse.DefaultSettings() (field by field when settings
// are partly written); an entitlement's owner is its system's owner; approval is
// [manager, owner]; privileged entitlements get security appended to their approval chain;
// requestable is true for every entitlement (privileged ones too: they are requested, approved
// by security, and expire); SoD severity is high and on_violation is block.
//
// Objects are named in problems by id ("systems[wiki].tier"), or by their 0-based position in
// their file's list when they have no usable id ("entitlements[3].risk").
//
// YAML anchors, aliases and merge keys are refused: a reviewer of a catalog change should see
// every value where it applies. Connector settings are checked per connector type against the
// settings each connector declares (gatehouse.ConnectorSpec, passed in by the caller: this
// package imports no connector); secrets are only accepted by reference (*_env, *_file).
package catalog
