# kinsta_exporter container image.
#
#   docker build -t kinsta_exporter .
#   docker run --rm -p 10055:10055 kinsta_exporter --demo
#
# Both base images are build arguments so that CI (which has no registry
# access, see .ci/container-test.sh) can substitute locally built ones.
# The defaults are the public images.
ARG GO_IMAGE=golang:1.26
ARG RUN_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0
# Optional module proxy override; when not given the Go default is used.
ARG GOPROXY
# Dependencies first, so this layer is reused while only sources change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_USER=container-build
ARG BUILD_DATE=unknown
RUN go build -trimpath -o /out/kinsta_exporter \
      -ldflags "-s -w \
        -X 'github.com/prometheus/common/version.Version=${VERSION}' \
        -X 'github.com/prometheus/common/version.Revision=${REVISION}' \
        -X 'github.com/prometheus/common/version.Branch=${BRANCH}' \
        -X 'github.com/prometheus/common/version.BuildUser=${BUILD_USER}' \
        -X 'github.com/prometheus/common/version.BuildDate=${BUILD_DATE}'" \
      . \
 && /out/kinsta_exporter --version

FROM ${RUN_IMAGE}
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="kinsta_exporter" \
      org.opencontainers.image.description="Prometheus exporter for the Kinsta WordPress hosting API" \
      org.opencontainers.image.source="https://github.com/kinsta-exporter/kinsta_exporter" \
      org.opencontainers.image.url="https://github.com/kinsta-exporter/kinsta_exporter" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# CA bundle from the build stage, so that the image can reach the Kinsta API
# even when RUN_IMAGE is scratch (distroless already ships the same bundle).
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/kinsta_exporter /bin/kinsta_exporter
# Numeric user: needs no /etc/passwd entry, so it works on scratch as well,
# and lets Kubernetes verify runAsNonRoot.
USER 65534:65534
EXPOSE 10055
ENTRYPOINT ["/bin/kinsta_exporter"]
