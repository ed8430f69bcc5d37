package bot

import (
	"encoding/json"
	"net/url"
	"testing"
)

// TestReplyMetadataField: the pre-encoded metadata field of a reply is the
// one slack-go encodes from replyMetadata, and reads back as a reply with
// its marker.
func TestReplyMetadataField(t *testing.T) {
	marker := newMarker()
	form, err := url.ParseQuery(replyMetadataField(marker))
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(replyMetadata(marker))
	if err != nil {
		t.Fatal(err)
	}
	if got := form.Get("metadata"); got != string(want) {
		t.Errorf("metadata field = %s, want %s", got, want)
	}
}
