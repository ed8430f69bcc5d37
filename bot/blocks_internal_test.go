package bot

import (
	"encoding/json"
	"net/url"
	"testing"

	"shipmate/content"
	"shipmate/index"
)

func TestSourceLabel(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/express-service-work.html":      "AmazonECS: express service work",
		"https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html#pod-id-considerations": "eks: pod identities",
		"https://aws.amazon.com/fargate/pricing/":                                                    "fargate: pricing",
		"https://aws.amazon.com/ecs/":                                                                "ecs",
		"https://docs.aws.amazon.com/":                                                               "docs.aws.amazon.com",
		"https://example.com/a/index.html?x=1":                                                       "example.com",
	} {
		if got := sourceLabel(u); got != want {
			t.Errorf("sourceLabel(%q) = %q, want %q", u, got, want)
		}
	}
}

// TestEncodedMessage: a message whose blocks were encoded once posts the
// same JSON as the blocks themselves, for every kind of answer.
func TestEncodedMessage(t *testing.T) {
	t.Parallel()
	ix, err := index.New(content.MustLoadEmbedded())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for _, q := range []string{
		"which service for running containers without managing servers?", // a scenario
		"what does a task definition contain?",                           // a note
		"does fargate support gpus?",                                     // a verdict
		"spot instances to save money",                                   // a question back
		"how do I tune postgres",                                         // declined
	} {
		a, err := ix.Answer(t.Context(), index.Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		m := RenderBlocks(Reply{Answer: &a}, ix.ServiceName, RenderOptions{Command: q})
		e := m.Encoded()
		want, err1 := json.Marshal(m.Blocks)
		got, err2 := json.Marshal(e.encoded)
		if err1 != nil || err2 != nil || string(got) != string(want) {
			t.Errorf("%q: encoded blocks = %s (%v), want %s (%v)", q, got, err2, want, err1)
		}
		if len(e.Options()) != len(m.Options()) || e.Text != m.Text {
			t.Errorf("%q: the encoded message differs in its text or options", q)
		}
		// A reply posts the form fields encoded once: the blocks as
		// slack-go marshals them, and the text.
		opts, form := e.replyOptions()
		fields, err := url.ParseQuery(form)
		if len(opts) != 0 || err != nil || len(fields) != 2 || fields.Get("blocks") != string(want) || fields.Get("text") != m.Text {
			t.Errorf("%q: reply form %q (%v) with %d options, want blocks %s and text %q only", q, form, err, len(opts), want, m.Text)
		}
		if opts, form := m.replyOptions(); form != "" || len(opts) != len(m.Options()) {
			t.Errorf("%q: a message not encoded gives form %q and %d options, want its options", q, form, len(opts))
		}
	}
}
