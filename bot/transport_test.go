package bot

import (
	"net/http"
	"strings"
	"testing"
)

func TestDropField(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`{"ok":true,"channel":"C1","ts":"1.2","message":{"blocks":[{"type":"section","text":{"text":"}{\"]"}}]}}`, `{"ok":true,"channel":"C1","ts":"1.2"}`},
		{`{"message":"x","ok":false,"error":"no_text"}`, `{"ok":false,"error":"no_text"}`},
		{` {"ok":true} `, `{"ok":true}`},
		{`{"ok":true,"response_metadata":{"warnings":["a"]}}`, `{"ok":true,"response_metadata":{"warnings":["a"]}}`},
	}
	for _, tt := range tests {
		got, err := dropField(strings.NewReader(tt.in), "message")
		if err != nil || string(got) != tt.want {
			t.Errorf("dropField(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`[1]`, `{"ok":`, `<html>`, ``} {
		if got, err := dropField(strings.NewReader(bad), "message"); err == nil {
			t.Errorf("dropField(%q) = %s, want an error", bad, got)
		}
	}
}

func TestFormChannel(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		"blocks=%5B%5D&channel=C123&text=hi": "C123",
		"channel=D9":                         "D9",
		"text=channel%3DCX&token=x":          "",
		"channel=C%2F1":                      "C/1",
	} {
		req, _ := http.NewRequest(http.MethodPost, "http://x/api/chat.postMessage", strings.NewReader(body))
		if got := formChannel(req); got != want {
			t.Errorf("formChannel(%q) = %q, want %q", body, got, want)
		}
	}
}
