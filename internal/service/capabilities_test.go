package service

import (
	"reflect"
	"testing"
)

// TestNewWiresEveryCapability: New gives every capability the one core and every capability it
// depends on. A dependency left nil would only fail on the path that uses it (a leaver in an HR
// import, a break-glass grant), so it is checked here for all of them at once.
func TestNewWiresEveryCapability(t *testing.T) {
	t.Parallel()
	svc := New(nil, Options{})
	sv := reflect.ValueOf(svc).Elem()
	for i := range sv.NumField() {
		f, sf := sv.Field(i), sv.Type().Field(i)
		if f.IsNil() {
			t.Errorf("Service.%s is nil", sf.Name)
			continue
		}
		if sf.Name == "core" {
			continue
		}
		capv := f.Elem()
		for j := range capv.NumField() {
			df, dsf := capv.Field(j), capv.Type().Field(j)
			if !dsf.Anonymous {
				continue // options: nil is allowed for some (no notifier, no provisioner)
			}
			if df.IsNil() {
				t.Errorf("%s.%s is nil: New does not wire it", sf.Name, dsf.Name)
			} else if dsf.Name == "core" && df.Pointer() != reflect.ValueOf(svc.core).Pointer() {
				t.Errorf("%s has a core of its own: every capability shares one", sf.Name)
			}
		}
	}
	if svc.Notifications.grants == nil {
		t.Error("Notifications.grants is nil: New does not wire it")
	}
}
