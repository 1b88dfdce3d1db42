# syntax=docker/dockerfile:1
# Build: the SQLite driver needs cgo, so build with gcc on Debian and run on a
# small image that has glibc.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/papi ./cmd/papi \
 && mkdir -p /out/data

FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /out/papi /usr/local/bin/papi
COPY --from=build --chown=nonroot:nonroot /out/data /data
WORKDIR /data
ENV PAPI_ADDR=:8080 PAPI_DB=/data/papi.db
VOLUME /data
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/papi"]
CMD ["serve"]
