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

func TestFrameHeader(t *testing.T) {
	t.Parallel()
	long := append([]byte{0x81, 126, 0x01, 0x00}, make([]byte, 256)...)
	tests := []struct {
		in     []byte
		opcode byte
		size   int
		ok     bool
	}{
		{[]byte{0x81, 5, 'h', 'e', 'l', 'l', 'o'}, 1, 7, true},
		{[]byte{0x88, 2, 0x03, 0xe8}, opClose, 4, true},
		{[]byte{0x89, 0}, 9, 2, true},
		{long, 1, 260, true},
		{[]byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}, 2, 10 + 65536, true},
		{[]byte{0x81, 0x85, 1, 2, 3, 4}, 1, 2 + 4 + 5, true},
		{[]byte{0x81}, 0, 0, false},
		{[]byte{0x81, 126, 1}, 0, 0, false},
	}
	for _, tt := range tests {
		op, size, ok := frameHeader(tt.in)
		if op != tt.opcode || size != tt.size || ok != tt.ok {
			t.Errorf("frameHeader(% x) = %d, %d, %v; want %d, %d, %v", tt.in[:min(len(tt.in), 10)], op, size, ok, tt.opcode, tt.size, tt.ok)
		}
	}
}
