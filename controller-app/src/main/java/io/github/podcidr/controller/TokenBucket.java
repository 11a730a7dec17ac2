package io.github.podcidr.controller;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.function.LongSupplier;
import okhttp3.Interceptor;
import okhttp3.Response;

/**
 * Client-side rate limit of API requests, as client-go's {@code --kube-api-qps}/{@code --kube-api-burst}: a token
 * bucket holding up to {@code burst} tokens, refilled at {@code qps} per second; every HTTP request takes one, waiting
 * if none is left. The official Java client has no such limit, so this is an OkHttp interceptor added to every client
 * the controller makes, all sharing one bucket (the limit is per process, as in client-go).
 *
 * <p>Callers are served in arrival order: each reserves the next token time under the lock, then sleeps outside it.
 */
public final class TokenBucket implements Interceptor {
    private final double qps;
    private final int burst;
    private final LongSupplier nanoTime;
    /** Tokens available at {@link #stamp}; negative when callers have reserved tokens not yet refilled. */
    private double tokens;
    private long stamp;

    /**
     * Creates a full bucket.
     *
     * @param qps tokens per second, positive
     * @param burst capacity, at least 1
     */
    public TokenBucket(double qps, int burst) {
        this(qps, burst, System::nanoTime);
    }

    TokenBucket(double qps, int burst, LongSupplier nanoTime) {
        if (!(qps > 0) || burst < 1) {
            throw new IllegalArgumentException("qps must be positive and burst at least 1, got " + qps + "/" + burst);
        }
        this.qps = qps;
        this.burst = burst;
        this.nanoTime = nanoTime;
        this.tokens = burst;
        this.stamp = nanoTime.getAsLong();
    }

    /**
     * Takes one token and tells how long the caller must wait before using it.
     *
     * @return nanoseconds to wait, 0 if a token was available
     */
    synchronized long reserve() {
        long now = nanoTime.getAsLong();
        tokens = Math.min(burst, tokens + (now - stamp) * qps / 1e9);
        stamp = now;
        tokens -= 1;
        return tokens >= 0 ? 0 : (long) Math.ceil(-tokens / qps * 1e9);
    }

    /**
     * Waits for a token.
     *
     * @throws InterruptedException if interrupted while waiting
     */
    public void acquire() throws InterruptedException {
        long wait = reserve();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }

    @Override
    public Response intercept(Chain chain) throws IOException {
        try {
            acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the client-side rate limit");
        }
        return chain.proceed(chain.request());
    }
}
