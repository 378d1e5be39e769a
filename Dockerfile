# InsightReplay for people who use containers: the release binary with the Swift runtime linked
# statically, on Debian slim. Documented in the README ("Without a Swift toolchain"); no Docker
# engine runs on the machines this project is built on, so this file is not built by CI.
#   docker build -t insight-replay .
#   docker run --rm -p 8080:8080 insight-replay serve --host 0.0.0.0
FROM swift:6.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev libcurl4-openssl-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib -Xlinker -lcurl --product insight-replay \
 && swift build -c release --product InsightPreload

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-0 libcurl4 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/.build/release/insight-replay /usr/local/bin/insight-replay
COPY --from=build /src/.build/release/libInsightPreload.so /usr/local/bin/libInsightPreload.so
WORKDIR /work
COPY Scenarios ./Scenarios
COPY Recordings ./Recordings
EXPOSE 8080
ENTRYPOINT ["insight-replay"]
CMD ["serve", "--host", "0.0.0.0"]
