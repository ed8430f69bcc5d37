#!/usr/bin/env bash
# Runs the Dockerfile's build stage without Docker (these machines have no
# daemon) and checks what the final stage would get:
#
#   - every RUN line of the build stage(s), read from the Dockerfile itself so
#     an edit there cannot silently diverge from what is checked here, with
#     the stage's output directory (the -o of `go build`) moved to a temp dir;
#   - every file the final stage copies from the build stage exists;
#   - the binary is static (no ELF interpreter, built with CGO_ENABLED=0),
#     stripped and trimmed, and small enough for a < 30 MB image;
#   - it runs with an empty environment, as in distroless: `validate`,
#     `ask --json`, and `serve` without tokens failing at once with a message
#     that names the missing token.
#
# Usage: bash .ci/docker-build-stage.sh [Dockerfile]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
dockerfile=${1:-Dockerfile}
export PATH="$PATH:/usr/local/go/bin"

fail() { echo "docker-build-stage: $*" >&2; exit 1; }

[ -f "$dockerfile" ] || fail "no $dockerfile"
command -v go >/dev/null || fail "go is not on PATH"

# Instructions, one per line: continuation lines joined, comments dropped.
instructions=$(awk '
  /^[[:space:]]*#/ { next }
  {
    line = $0
    if (cont != "") sub(/^[[:space:]]+/, "", line)
    if (sub(/\\[[:space:]]*$/, "", line)) { cont = cont line " "; next }
    line = cont line; cont = ""
    if (line ~ /^[[:space:]]*$/) next
    print line
  }' "$dockerfile")

nstages=$(grep -ciE '^[[:space:]]*FROM[[:space:]]' <<<"$instructions" || true)
[ "$nstages" -ge 2 ] || fail "$dockerfile is not multi-stage ($nstages FROM lines)"

# Stages before the last one build; the last one is the image.
build_part=$(awk -v n="$nstages" 'toupper($1) == "FROM" { s++ } s < n' <<<"$instructions")
final_part=$(awk -v n="$nstages" 'toupper($1) == "FROM" { s++ } s == n' <<<"$instructions")

# The builder image's Go must satisfy go.mod: the image sets GOTOOLCHAIN=local,
# so an older Go there fails at `go mod download`.
builder=$(awk 'toupper($1) == "FROM" { for (i = 2; i <= NF; i++) if ($i !~ /^--/) { print $i; exit } }' <<<"$build_part")
image_go=$(sed -nE 's/^golang:([0-9]+\.[0-9]+(\.[0-9]+)?).*/\1/p' <<<"$builder")
mod_go=$(awk '$1 == "go" { print $2; exit }' go.mod)
local_go=$(go env GOVERSION | sed 's/^go//')
echo "builder image: $builder (Go ${image_go:-?}); go.mod: go $mod_go; this machine: go $local_go"
if [ -n "$image_go" ]; then
  lowest=$(printf '%s\n%s\n' "$image_go" "$mod_go" | sort -V | head -n1)
  [ "$lowest" = "$mod_go" ] || fail "$builder has Go $image_go, older than go.mod's go $mod_go"
  [ "${image_go%.*}" = "${local_go%.*}" ] || [ "$image_go" = "${local_go%.*}" ] ||
    echo "warning: the image builds with Go $image_go, this check with Go $local_go" >&2
fi

runs=$(awk 'toupper($1) == "RUN" { sub(/^[[:space:]]*[Rr][Uu][Nn][[:space:]]+/, ""); while ($0 ~ /^--[a-z-]+=[^[:space:]]+[[:space:]]/) sub(/^--[a-z-]+=[^[:space:]]+[[:space:]]+/, ""); print }' <<<"$build_part")
build_cmd=$(grep -E '(^|[[:space:]])go build[[:space:]]' <<<"$runs" || true)
[ "$(grep -c . <<<"$build_cmd")" -eq 1 ] || fail "want exactly one RUN line with 'go build' in the build stage, got:
$build_cmd"
# The Dockerfile's output path, e.g. /out/shipmate; its directory is moved.
out_path=$(sed -nE 's/.*[[:space:]]-o[[:space:]=]+([^[:space:]]+).*/\1/p' <<<"$build_cmd")
[ -n "$out_path" ] || fail "the go build line has no -o: $build_cmd"
case $out_path in /*) ;; *) fail "go build -o $out_path: want an absolute path" ;; esac
out_dir=$(dirname "$out_path")
[ "$out_dir" != / ] || fail "go build -o $out_path: want it in a directory of its own"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
mkdir -p "$out"

# The build stage's environment: the golang image's settings, the stage's
# ENV and ARG lines, and what BuildKit would pass for TARGETOS/TARGETARCH.
# GOFLAGS=-buildvcs=false stands for the context having no .git (.dockerignore).
unset GOFLAGS GOOS GOARCH CGO_ENABLED
# The image's Go is $image_go with GOTOOLCHAIN=local. Where this machine's Go
# is older, run that same release instead (the go command fetches it), as
# the image would; else this machine's own.
toolchain=local
machine_go=$(GOTOOLCHAIN=local go env GOVERSION | sed 's/^go//')
if [ -n "$image_go" ] && [ "$(printf '%s\n%s\n' "$image_go" "$machine_go" | sort -V | head -n1)" != "$image_go" ]; then
  toolchain=go$image_go
fi
export GOTOOLCHAIN=$toolchain GOFLAGS=-buildvcs=false
# As `docker build --build-arg SHIPMATE_COMMIT=$(git rev-parse HEAD)` would.
SHIPMATE_COMMIT=${SHIPMATE_COMMIT:-$(git -C "$repo" rev-parse HEAD 2>/dev/null || true)}
export SHIPMATE_COMMIT
export TARGETOS=${TARGETOS:-$(go env GOOS)} TARGETARCH=${TARGETARCH:-$(go env GOARCH)}
while read -r kw rest; do
  case ${kw^^} in
    ENV|ARG)
      for kv in $rest; do
        case $kv in
          *=*) k=${kv%%=*}; v=${kv#*=}; v=${v%\"}; v=${v#\"}
               if [ "${kw^^}" = ENV ] || [ -z "${!k:-}" ]; then export "$k=$v"; fi ;;
        esac
      done ;;
  esac
done <<<"$build_part"
# An ENV GOTOOLCHAIN=local in the stage means the image's own Go, as above.
if [ "${GOTOOLCHAIN:-}" = local ]; then export GOTOOLCHAIN=$toolchain; fi

# chown needs root; elsewhere it is skipped (the ownership is then not checked).
if [ "$(id -u)" != 0 ]; then
  mkdir -p "$tmp/bin"
  printf '#!/bin/sh\necho "(not root: skipped chown $*)"\n' >"$tmp/bin/chown"
  chmod +x "$tmp/bin/chown"
  PATH="$tmp/bin:$PATH"
fi

echo "--- build stage ($dockerfile), $out_dir -> $out"
while IFS= read -r cmd; do
  [ -n "$cmd" ] || continue
  # Move the output directory: /out, /out/..., not /outer or /src/out.
  local_cmd=$(OUT_DIR="$out_dir" OUT="$out" perl -pe 's/(?<![\w\/.-])\Q$ENV{OUT_DIR}\E(?=\/|\s|$|;|&|\|)/$ENV{OUT}/g' <<<"$cmd")
  echo "+ $local_cmd"
  (cd "$repo" && sh -ec "$local_cmd") || fail "build stage command failed: $cmd"
done <<<"$runs"

bin=$out/$(basename "$out_path")
[ -x "$bin" ] || fail "no binary at $bin"

echo "--- files the final stage copies from the build stage"
while read -r src; do
  case $src in
    "$out_dir"/*|"$out_dir") local_src=$out${src#"$out_dir"} ;;
    *) fail "the final stage copies $src, which the build stage does not make under $out_dir" ;;
  esac
  [ -e "$local_src" ] || fail "the final stage copies $src, but the build stage did not make it"
  echo "ok  $src"
  if [ "$(id -u)" = 0 ] && [ -d "$local_src" ]; then
    owner=$(stat -c %u:%g "$local_src")
    [ "$owner" = 65532:65532 ] || fail "$src is owned by $owner, want 65532:65532 (nonroot)"
  fi
done < <(awk 'toupper($1) == "COPY" {
    from = 0; n = 0
    for (i = 2; i <= NF; i++) { if ($i ~ /^--from=/) from = 1; else if ($i !~ /^--/) a[++n] = $i }
    if (from) for (i = 1; i < n; i++) print a[i]
  }' <<<"$final_part")

echo "--- static binary"
info=$(go version -m "$bin")
echo "$info" | grep -E '^[[:space:]]+build[[:space:]]' || true
grep -qE '^[[:space:]]+build[[:space:]]+CGO_ENABLED=0$' <<<"$info" || fail "$bin was not built with CGO_ENABLED=0"
grep -qE '^[[:space:]]+build[[:space:]]+-trimpath=true$' <<<"$info" || fail "$bin was not built with -trimpath"
# With -trimpath, go does not record -ldflags; the sections show -s -w.
checked=
if command -v readelf >/dev/null; then
  if readelf -lW "$bin" | grep -q 'INTERP'; then fail "$bin has an ELF interpreter: it is dynamically linked"; fi
  if readelf -dW "$bin" | grep -q 'NEEDED'; then fail "$bin needs shared libraries"; fi
  if readelf -SW "$bin" | grep -qE '\.symtab|\.debug_'; then fail "$bin has a symbol table or DWARF: build it with -ldflags=\"-s -w\""; fi
  echo "readelf: no INTERP, no NEEDED, no .symtab or .debug_* (stripped)"
  checked=1
else
  echo "readelf is not installed: not checking that the binary is stripped"
fi
if command -v ldd >/dev/null; then
  ldd_out=$(ldd "$bin" 2>&1 || true)
  case $ldd_out in
    *"not a dynamic executable"*|*"statically linked"*) echo "ldd: $ldd_out"; checked=1 ;;
    *) fail "ldd lists libraries for $bin: $ldd_out" ;;
  esac
fi
[ -n "$checked" ] || fail "neither readelf nor ldd is installed: cannot check that $bin is static"
if command -v file >/dev/null; then file -b "$bin"; fi

size=$(stat -c %s "$bin")
echo "size: $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f MiB", s / 1048576 }'))"
# distroless/static-debian12 is about 2 MB, so the binary gets the rest of 30 MB.
# pgx (PostgreSQL, with its type system and SCRAM's Unicode tables) adds
# about 4 MB; prometheus/client_golang about 2 MB.
[ "$size" -lt $((32 * 1024 * 1024)) ] || fail "the binary is over 32 MiB: the image would pass 35 MB"

echo "--- runs with an empty environment"
cd "$out"
version=$(env -i ./shipmate version) || fail "shipmate version failed"
echo "$version"
if [ -n "$SHIPMATE_COMMIT" ]; then
  grep -q "^commit   $SHIPMATE_COMMIT\$" <<<"$version" || fail "shipmate version does not name the commit $SHIPMATE_COMMIT passed as SHIPMATE_COMMIT"
fi
env -i ./shipmate validate || fail "shipmate validate failed"
answer=$(env -i ./shipmate ask --json "serverless containers") || fail "shipmate ask --json failed"
[ "$(grep -c . <<<"$answer")" -eq 1 ] && [ "${answer:0:1}" = "{" ] && [ "${answer: -1}" = "}" ] ||
  fail "shipmate ask --json did not print one JSON object: $answer"
if command -v python3 >/dev/null; then
  python3 -c 'import json, sys; json.loads(sys.stdin.read())' <<<"$answer" || fail "shipmate ask --json printed invalid JSON"
fi
echo "ask --json: ${answer:0:160}…"

# As in the image (its ENV, no tokens): serve must stop at once and say why.
set +e
serve_err=$(env -i DATA_DIR="$out/data" HTTP_ADDR=127.0.0.1:0 timeout 20 ./shipmate serve 2>&1 >/dev/null)
rc=$?
set -e
[ "$rc" != 124 ] || fail "shipmate serve without tokens did not exit within 20s"
[ "$rc" != 0 ] || fail "shipmate serve without tokens exited 0"
grep -q SLACK_BOT_TOKEN <<<"$serve_err" || fail "shipmate serve without tokens did not name SLACK_BOT_TOKEN: $serve_err"
echo "serve without tokens: exit $rc, names SLACK_BOT_TOKEN"

echo "docker-build-stage: ok"
