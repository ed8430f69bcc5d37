package index_test

import (
	"testing"

	"shipmate/content"
	"shipmate/index"
)

// BenchmarkLoadOnly is the content half of BenchmarkLoadAndBuild.
func BenchmarkLoadOnly(b *testing.B) {
	for b.Loop() {
		if _, err := content.Load(content.Embedded); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildOnly is the index half of BenchmarkLoadAndBuild.
func BenchmarkBuildOnly(b *testing.B) {
	base, _ := content.Load(content.Embedded)
	for b.Loop() {
		ix, err := index.New(base)
		if err != nil {
			b.Fatal(err)
		}
		ix.Close()
	}
}
