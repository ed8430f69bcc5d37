package bot

import (
	"io"
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

// TestWithFormFields: the fields are added to a copy of the request, and
// each rewind of the copy's body (a retry) reads them again; the request
// slack-go made is left for its own rewind.
func TestWithFormFields(t *testing.T) {
	t.Parallel()
	req, _ := http.NewRequest(http.MethodPost, "http://x/api/chat.postMessage", strings.NewReader("channel=C1&token=x"))
	r, err := withFormFields(req, "blocks=%5B%5D&text=hi")
	if err != nil {
		t.Fatal(err)
	}
	const want = "channel=C1&token=x&blocks=%5B%5D&text=hi"
	for i := range 2 {
		body := r.Body
		if i > 0 {
			body, _ = r.GetBody()
		}
		got, _ := io.ReadAll(body)
		if string(got) != want || r.ContentLength != int64(len(want)) {
			t.Errorf("attempt %d: body %q (length %d), want %q", i+1, got, r.ContentLength, want)
		}
	}
	if again, _ := req.GetBody(); again != nil {
		if got, _ := io.ReadAll(again); string(got) != "channel=C1&token=x" {
			t.Errorf("the original request's body is now %q", got)
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
