# Shipmate's container image: a static Go binary on distroless, about 33 MB.
#
#   docker build --build-arg SHIPMATE_COMMIT=$(git rev-parse HEAD) -t shipmate .
#   docker run --rm --env-file .env -v shipmate-data:/data -p 8080:8080 shipmate
#
# .ci/docker-build-stage.sh runs this file's build-stage RUN lines outside
# Docker, so keep each command on RUN lines of the "build" stage.

# The build stage runs on the builder's platform and cross-compiles, so
# `docker buildx build --platform linux/arm64 …` needs no emulation.
FROM --platform=$BUILDPLATFORM golang:1.27.3-bookworm AS build
# Set by BuildKit; empty (the builder's own platform) elsewhere.
ARG TARGETOS TARGETARCH
WORKDIR /src
# Modules first: this layer is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The context has no .git, so the go command cannot record the commit:
# pass it in, and `shipmate version` and shipmate_build_info show it
# (docker build --build-arg SHIPMATE_COMMIT=$(git rev-parse HEAD) .).
ARG SHIPMATE_COMMIT=
# CGO_ENABLED=0 makes a static binary (the SQLite driver is pure Go), which
# is what distroless/static needs: it has no C library.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w -X shipmate/internal/buildinfo.commit=$SHIPMATE_COMMIT" -o /out/shipmate ./cmd/shipmate
# The quiz store's mount point, owned by the image's user, so a fresh named
# volume starts writable.
RUN mkdir -p /out/data && chown 65532:65532 /out/data

# distroless/static: CA certificates, tzdata and /etc/passwd with nonroot
# (uid 65532), no shell or package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/shipmate /shipmate
COPY --from=build --chown=65532:65532 /out/data /data
ENV DATA_DIR=/data HTTP_ADDR=:8080
VOLUME /data
# Health (/healthz) and readiness (/readyz) only: Slack is reached over an
# outbound websocket, so the bot needs no inbound traffic.
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/shipmate"]
CMD ["serve"]
