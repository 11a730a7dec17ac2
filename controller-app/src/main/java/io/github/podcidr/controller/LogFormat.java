package io.github.podcidr.controller;

/** How log lines look: {@code text} for people, {@code json} (one object per line) for log pipelines. */
public enum LogFormat {
    /** {@code 2026-01-01T00:00:00.000Z INFO  PodCidrReconciler - assigned node=n1 cidr=10.244.1.0/24}. */
    TEXT,
    /** {@code {"time":"...","level":"INFO","logger":"...","msg":"assigned node=n1 cidr=...","node":"n1",...}}. */
    JSON
}
