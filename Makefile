VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# Linters, pinned; each version is built once into a cache folder (kept
# between CI runs on the same machine) and reused.
STATICCHECK_VERSION := v0.8.2
GOLANGCI_VERSION := v2.15.0
TOOLS ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/papi/tools
STATICCHECK := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)
GOLANGCI := $(TOOLS)/golangci-lint-$(GOLANGCI_VERSION)

.PHONY: build run test test-short lint lint-tools lint-static bench

build:
	go build -ldflags "-X main.version=$(VERSION)" -o papi ./cmd/papi

run:
	go run ./cmd/papi

test:
	go test -race ./...

# The inner loop: no Chromium, Node, PostgreSQL runs of the store tests or
# long simulations.
test-short:
	go test -short ./...

lint: lint-static
	go vet ./...
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"

# staticcheck and golangci-lint (.golangci.yml); any finding fails.
lint-static: lint-tools
	$(STATICCHECK) ./...
	$(GOLANGCI) run ./...

lint-tools: $(STATICCHECK) $(GOLANGCI)

$(STATICCHECK):
	mkdir -p $(TOOLS)/bin-staticcheck
	GOBIN=$(TOOLS)/bin-staticcheck go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS)/bin-staticcheck/staticcheck $@

$(GOLANGCI):
	mkdir -p $(TOOLS)/bin-golangci
	GOBIN=$(TOOLS)/bin-golangci go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)
	mv $(TOOLS)/bin-golangci/golangci-lint $@

bench:
	go test -run '^$$' -bench . -benchmem ./...
