# syntax=docker/dockerfile:1
# podcidr-controller image, for those who build with Docker. Without Docker, "mvn -B package" builds the image as an
# OCI archive (controller-app/target/podcidr-controller-image.tar: one index of linux/amd64 and, given
# -Dimage.roots, linux/arm64; docs/release.md) with its SBOM beside it; keep the two in step:
#   - the root below the application comes from scripts/image/runtime-root.sh in both (a jlink runtime at
#     /opt/java/openjdk, the shared libraries it needs, /etc/passwd with user 65532, an empty /tmp, and
#     /var/lib/dpkg/status.d naming the Debian packages those come from, for image scanners);
#   - the application is laid out as Jib lays it out: /app/libs (dependencies), /app/classes (classes, resources);
#   - user, ports, labels and entrypoint are controller-app/pom.xml's <container> settings; the ports are the chart's
#     (10290 health probes, 10291 metrics).
#
#   docker build -t podcidr-controller:0.1.0 .       # the tag is the chart's appVersion
#   docker run --rm podcidr-controller:0.1.0 --help
#   docker buildx build --platform linux/amd64,linux/arm64 -t <registry>/podcidr-controller:0.1.0 --push .
#
# With buildx, each platform's build stage runs on that platform (emulated by binfmt/qemu if need be), so the jlink
# runtime and libraries are that platform's. Here the JDK is the build image's (Eclipse Temurin on Ubuntu), not
# Debian's as in the Maven build, and no SBOM file is shipped (controller-app/target/podcidr-controller-image.cdx.json
# of the build stage describes this root).
#
# Nothing is written to the root file system (no shell, no temp files; -XX:-UsePerfData stops the JVM's hsperfdata
# file; logs go to standard error), so readOnlyRootFilesystem: true works as is.

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
# every module's pom is needed for the reactor; only the controller and what it depends on is built
COPY pom.xml ./
COPY ipam-core ipam-core
COPY ipam-k8s ipam-k8s
COPY apiserver-sim apiserver-sim
COPY ipam-bench/pom.xml ipam-bench/pom.xml
COPY charts/pom.xml charts/pom.xml
COPY controller-app controller-app
COPY scripts/image scripts/image
# package also writes controller-app/target/image-root (the runtime root); Jib's tarballs are not needed here
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q package dependency:copy-dependencies -DskipTests -Djib.skip -DincludeScope=runtime \
        -pl controller-app -am

FROM scratch
COPY --from=build /src/controller-app/target/image-root/ /
COPY --from=build /src/controller-app/target/dependency/ /app/libs/
COPY --from=build /src/controller-app/target/classes/ /app/classes/
ENV JAVA_HOME=/opt/java/openjdk
# a numeric user, so that Kubernetes can check runAsNonRoot
USER 65532:65532
LABEL org.opencontainers.image.title="podcidr-controller" \
      org.opencontainers.image.description="Gives every Kubernetes Node its pod CIDRs when kube-controller-manager does not" \
      org.opencontainers.image.source="https://github.com/podcidr/podcidr-controller" \
      org.opencontainers.image.licenses="Apache-2.0"
# the chart's ports: health probes (10290) and metrics (10291)
EXPOSE 10290 10291
# JVM flags here, not in JAVA_TOOL_OPTIONS (which makes the JVM print a line to standard error): heap at 75% of the
# memory limit; exit, and be restarted, after an OutOfMemoryError; no hsperfdata file (read-only root); the C1
# compiler only, which starts and takes over sooner and fills as fast on 2 cores (docs/benchmarks.md, issue 17)
ENTRYPOINT ["/opt/java/openjdk/bin/java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", \
            "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-cp", "/app/resources:/app/classes:/app/libs/*", \
            "io.github.podcidr.controller.Main"]
