# Multi-stage build: a static manager binary on a distroless, non-root base.
FROM golang:1.26 AS builder
ARG TARGETOS=linux
ARG TARGETARCH=amd64
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY internal/ internal/
# The release's flags (internal/release.GoBuildFlags): the same binary as the release image's,
# which holds only this binary (CA roots embedded through internal/caroots).
ARG VERSION=dev
ARG COMMIT=""
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false \
    -ldflags="-s -w -X github.com/liveness-operator/liveness-operator/internal/version.Version=${VERSION} -X github.com/liveness-operator/liveness-operator/internal/version.Commit=${COMMIT}" \
    -o manager ./cmd/manager

FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532
ENTRYPOINT ["/manager"]
