# Targets shared by people and CI. `make test` is the whole suite (what .ci/run runs).
GO        ?= go
BIN       ?= kinsta_exporter
PKG        = github.com/prometheus/common/version
VERSION   ?= $(shell cat VERSION 2>/dev/null || echo 0.0.0)
REVISION  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH    ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
LDFLAGS    = -X $(PKG).Version=$(VERSION) -X $(PKG).Revision=$(REVISION) -X $(PKG).Branch=$(BRANCH) \
             -X $(PKG).BuildUser=$(shell whoami)@$(shell hostname) -X $(PKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)
# A count, not a duration: Go 1.26's fuzz coordinator can fail a target with
# "context deadline exceeded" when a duration budget ends while a worker is
# busy (golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
# 100,000 inputs take 5 to 15 s per target here.
FUZZTIME  ?= 100000x

.PHONY: build demo test deps lint unit modules rules e2e container fuzz bench soak soak-short release release-test helm chart

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

demo: build
	./$(BIN) --demo

# The whole suite: installs what is missing (Debian packages), then every check.
test: deps lint unit release-test helm modules rules e2e container fuzz soak-short
	@echo "make test: all suites passed"

deps:
	.ci/install-deps

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# Unit, golden, fake-API and real-binary tests.
unit:
	$(GO) test -race -count=1 ./...

# Modules kept apart so their heavy dependencies stay out of the exporter's go.mod.
modules:
	cd grafana && $(GO) vet ./... && $(GO) test -race -count=1 ./...
	cd deploy/manifests_test && $(GO) vet ./... && $(GO) test -count=1 ./...

# Real Prometheus and Alertmanager scrape the real binary, fire the shipped rules and run every dashboard query.
e2e:
	cd e2e && $(GO) vet ./... && $(GO) test -count=1 ./...

rules:
	deploy/prometheus/check.sh

# Helm v4 for the chart tests (run by `modules`), built once from the Go module
# proxy (deploy/helm/tools) and cached beside Go's build cache: minutes cold,
# instant after. Built here so that the build is not inside go test's timeout.
helm:
	deploy/helm/tools/helm.sh version

# The Helm chart and the rules generator alone: lint, render, strict decoding.
chart: helm
	cd deploy/manifests_test && $(GO) test -count=1 -run 'Chart|Rule|Generated' ./...

container:
	.ci/container-test.sh

# Bounded fuzzing of the decoders, header parsing and the configuration file.
fuzz:
	$(GO) test ./kinsta -run '^$$' -fuzz '^FuzzDecodeSites$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 200x
	$(GO) test ./kinsta -run '^$$' -fuzz '^FuzzParseRetryAfter$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 200x
	$(GO) test ./kinsta -run '^$$' -fuzz '^FuzzEnvironmentDomains$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 200x
	$(GO) test ./kinsta -run '^$$' -fuzz '^FuzzDecodeResponseCodes$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 200x
	$(GO) test ./kinsta -run '^$$' -fuzz '^FuzzDecodeAPIKeys$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 200x
	$(GO) test ./kinsta -run '^$$' -fuzz '^FuzzStreamCompanyExtensions$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 200x
	$(GO) test ./collector/config -run '^$$' -fuzz '^FuzzConfig$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 200x
	$(GO) test ./server/exposition -run '^$$' -fuzz '^FuzzAppendGauges$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 200x

# Go benchmarks (-benchmem), then kinsta_exporter side by side with json_exporter
# v0.7.0 and the limit on 10,000 fake sites, with the site series only and with
# the default collectors refreshing in the background; writes bench/results.md
# (~20 min; SITES=1000 for a quick check).
bench:
	bench/run.sh

# Fault soak: the real binary, 50 concurrent scrapers, random API faults
# (soak/). CI runs soak-short.
SOAK_DURATION ?= 10m
SOAK_TIMEOUT  ?= 2h
soak:
	SOAK_DURATION=$(SOAK_DURATION) $(GO) test -tags soak -count=1 -v -timeout $(SOAK_TIMEOUT) ./soak

soak-short:
	$(MAKE) soak SOAK_DURATION=60s SOAK_TIMEOUT=10m

# Release tarballs (static binaries, LICENSE, README.md, CHANGELOG.md) and
# sha256sums.txt in $(DIST)/, as promu lays them out (.ci/release.sh).
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/arm64
DIST              ?= dist
release:
	VERSION='$(VERSION)' LDFLAGS='$(LDFLAGS)' GO='$(GO)' RELEASE_PLATFORMS='$(RELEASE_PLATFORMS)' DIST='$(DIST)' .ci/release.sh

# make release into a scratch directory; checksums, contents and --version checked.
release-test:
	MAKE='$(MAKE)' GO='$(GO)' .ci/release-test.sh
