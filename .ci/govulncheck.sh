#!/usr/bin/env bash
# Runs govulncheck against an offline vulnerability database built from the
# golang.org/x/vulndb module (the online database at vuln.go.dev cannot be
# reached from CI machines). govulncheck exits non-zero when the code reaches
# a known vulnerable symbol, in the standard library or in a dependency.
#
# The module is untagged: bump VULNDB to a newer pseudo-version from the module
# proxy to pick up new reports.
set -euo pipefail
cd "$(dirname "$0")/.."

VULNDB=v0.0.0-20261105234957-e22db6528018
GOVULNCHECK=v1.9.0

db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT

go mod download golang.org/x/vulndb@"$VULNDB"
src=$(go list -m -f '{{.Dir}}' golang.org/x/vulndb@"$VULNDB" 2>/dev/null ||
  echo "$(go env GOMODCACHE)/golang.org/x/vulndb@$VULNDB")
# indexdb turns the module's OSV files into the v1 database layout govulncheck reads.
go run golang.org/x/vulndb/cmd/indexdb@"$VULNDB" -vulns "$src/data/osv" -out "$db/vulndb"
go run golang.org/x/vuln/cmd/govulncheck@"$GOVULNCHECK" -db "file://$db/vulndb" ./...
