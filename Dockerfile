# syntax=docker/dockerfile:1
# podcidr-controller image: built from source with Maven, run on a JRE 17 as a non-root user.
#
#   docker build -t podcidr-controller .
#   docker run --rm podcidr-controller --help
#
# The runtime stage needs no writable path: no shell scripts, no temp files (-XX:-UsePerfData stops the JVM's
# hsperfdata file), logs on standard error, so readOnlyRootFilesystem: true works as is.

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
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q package -DskipTests -pl controller-app -am

FROM eclipse-temurin:17-jre
COPY --from=build /src/controller-app/target/podcidr-controller.jar /app/podcidr-controller.jar
# a numeric user, so that Kubernetes can check runAsNonRoot
USER 65532:65532
EXPOSE 8080 8081
# container-aware heap: 75% of the memory limit; exit (and be restarted) rather than limp on after an OOM
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-XX:-UsePerfData", \
            "-jar", "/app/podcidr-controller.jar"]
