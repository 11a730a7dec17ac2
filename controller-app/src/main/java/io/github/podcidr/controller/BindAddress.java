package io.github.podcidr.controller;

import java.net.InetSocketAddress;

/**
 * A listen address in the controller-runtime form: {@code :8080} (all interfaces), {@code 127.0.0.1:8080},
 * {@code [::1]:8080}, or {@code 0} to switch the endpoint off. Brackets are accepted around any host, IPv4 too
 * ({@code [10.0.3.7]:8080}): the chart writes {@code [$(POD_IP)]:port} so that one form serves both families.
 *
 * @param host the host, or "" for all interfaces
 * @param port 0..65535 (0 picks a free port)
 */
public record BindAddress(String host, int port) {
    /** The text that switches an endpoint off, as in controller-runtime. */
    public static final String DISABLED = "0";

    /**
     * Parses an address.
     *
     * @param text {@code :8080}, {@code host:port}, {@code [v6]:port}
     * @return the address
     * @throws IllegalArgumentException naming the expected forms
     */
    public static BindAddress parse(String text) {
        String expected = "expected [host]:port, e.g. :8080 or 127.0.0.1:8080, or 0 to switch it off";
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("has no port; " + expected);
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("has an IPv6 host without brackets; write [::1]:8080");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("has a port that is not a number; " + expected);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("has port " + port + " outside 0..65535; " + expected);
        }
        return new BindAddress(host, port);
    }

    /**
     * Returns the socket address to bind.
     *
     * @return the address ({@code host} empty binds every interface)
     */
    public InetSocketAddress socketAddress() {
        return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
