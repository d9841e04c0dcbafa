# The lab as a container; docker-compose.yml runs it next to Apache Kafka.
#   docker build -t kafka-delivery-lab .
#   docker run -p 8080:8080 -e KAFKA_BROKERS=host:9092 kafka-delivery-lab
# Without KAFKA_BROKERS it runs the embedded broker inside the container.

FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# templ's generated *_templ.go files and web/ assets are committed and
# embedded, so a plain build is complete.
RUN go build -trimpath -ldflags="-s -w" -o /lab ./server

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /lab /lab
USER 65532:65532
# Listen on every interface of the container, or a published port
# cannot reach the app.
ENV LAB_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/lab"]
