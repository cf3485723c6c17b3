# kinsta_exporter container image.
#
#   docker build -t kinsta_exporter .
#   docker buildx build --platform linux/amd64,linux/arm64 -t kinsta_exporter .
#   docker run --rm -p 10055:10055 kinsta_exporter --demo
#
# The build stage runs on the builder's own platform and cross-compiles for
# the target one (TARGETOS/TARGETARCH, set by BuildKit, buildah and podman):
# no emulation, and the binary is static, so the run image is scratch.
# The Go image is a build argument so that CI (which has no registry access,
# see .ci/container-test.sh) can substitute a locally built one; so is the
# run image, for those who want a distroless or debugging base instead.
ARG GO_IMAGE=golang:1.26
ARG RUN_IMAGE=scratch

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0
# Optional module proxy override; when not given the Go default is used.
ARG GOPROXY
# Dependencies first, so this layer is reused while only sources change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
# Empty target platform (a builder that sets none): the build stage's own.
ARG TARGETOS
ARG TARGETARCH
# Empty VERSION: the VERSION file's. The other fields default to "unknown".
ARG VERSION
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_USER=container-build
ARG BUILD_DATE=unknown
RUN export GOOS="${TARGETOS:-$(go env GOOS)}" GOARCH="${TARGETARCH:-$(go env GOARCH)}" \
 && VERSION="${VERSION:-$(cat VERSION)}" \
 && go build -trimpath -o /out/kinsta_exporter \
      -ldflags "-s -w \
        -X 'github.com/prometheus/common/version.Version=${VERSION}' \
        -X 'github.com/prometheus/common/version.Revision=${REVISION}' \
        -X 'github.com/prometheus/common/version.Branch=${BRANCH}' \
        -X 'github.com/prometheus/common/version.BuildUser=${BUILD_USER}' \
        -X 'github.com/prometheus/common/version.BuildDate=${BUILD_DATE}'" \
      . \
 && echo "built kinsta_exporter ${VERSION} for ${GOOS}/${GOARCH}" \
 && if [ "${GOOS}/${GOARCH}" = "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" ]; then /out/kinsta_exporter --version; fi

FROM ${RUN_IMAGE}
# Only a VERSION given as a build argument can label the image (a label
# cannot read a file); the binary's --version always has it.
ARG VERSION
ARG REVISION=unknown
LABEL org.opencontainers.image.title="kinsta_exporter" \
      org.opencontainers.image.description="Prometheus exporter for the Kinsta WordPress hosting API" \
      org.opencontainers.image.source="https://github.com/kinsta-exporter/kinsta_exporter" \
      org.opencontainers.image.url="https://github.com/kinsta-exporter/kinsta_exporter" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# CA bundle from the build stage, so that the image can reach the Kinsta API
# from scratch.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/kinsta_exporter /bin/kinsta_exporter
# Numeric user: needs no /etc/passwd entry (scratch has none) and lets
# Kubernetes verify runAsNonRoot.
USER 65534:65534
EXPOSE 10055
ENTRYPOINT ["/bin/kinsta_exporter"]
