VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build run test lint bench

build:
	go build -ldflags "-X main.version=$(VERSION)" -o papi ./cmd/papi

run:
	go run ./cmd/papi

test:
	go test -race ./...

lint:
	go vet ./...
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"

bench:
	go test -run '^$$' -bench . -benchmem ./...
