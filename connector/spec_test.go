package connector_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

var testSpec = &gatehouse.ConnectorSpec{Type: "test", Settings: []gatehouse.SettingSpec{
	{Name: "url", Kind: gatehouse.SettingURL},
	{Name: "token", Kind: gatehouse.SettingSecret},
	{Name: "notes", Kind: gatehouse.SettingText},
	{Name: "tls", Kind: gatehouse.SettingBool},
	{Name: "size", Kind: gatehouse.SettingInt, Default: "50"},
	{Name: "timeout", Kind: gatehouse.SettingDuration, Default: "10s"},
	{Name: "mode", Kind: gatehouse.SettingString, Default: "fast"},
	connector.DriftSetting,
}}

func TestDecode(t *testing.T) {
	v, errs := connector.Decode(testSpec, map[string]any{
		"url": " https://x.example.com ", "token_env": "T", "notes": " as written\n", "tls": "true",
		"size": 7.0, "drift": map[string]any{"unknown_accounts": "report"}, "unknown": 1,
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := connector.Values{
		"url": "https://x.example.com", "token_env": "T", "token_file": "", "notes": " as written\n", "tls": true,
		"size": 7, "timeout": 10 * time.Second, "mode": "fast", "drift": map[string]any{"unknown_accounts": "report"},
	}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("Decode = %#v\nwant     %#v", v, want)
	}
	if v.String("url") != "https://x.example.com" || !v.Bool("tls") || v.Int("size") != 7 || v.Duration("timeout") != 10*time.Second {
		t.Errorf("getters disagree with the values: %#v", v)
	}
}

func TestDecodeErrorsNameTheSettingNotTheValue(t *testing.T) {
	_, errs := connector.Decode(testSpec, map[string]any{"url": 3, "tls": "s3cret", "size": "many", "timeout": "-1s"})
	var msgs []string
	for _, err := range errs {
		if !connector.IsPermanent(err) {
			t.Errorf("%v: want a permanent error", err)
		}
		msgs = append(msgs, err.Error())
	}
	got := strings.Join(msgs, "; ")
	for _, want := range []string{"url: must be a string", "tls: must be true or false", "size: must be a whole number", "timeout: must be a positive duration"} {
		if !strings.Contains(got, want) {
			t.Errorf("errors %q: want %q", got, want)
		}
	}
	if strings.Contains(got, "s3cret") {
		t.Errorf("errors %q quote a value", got)
	}
}
