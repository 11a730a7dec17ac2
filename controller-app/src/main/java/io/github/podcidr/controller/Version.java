package io.github.podcidr.controller;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The controller's version, as the build writes it into {@code version.properties} (the project's version). */
final class Version {
    private Version() {
    }

    /**
     * The version of this build, e.g. {@code 0.1.0}.
     *
     * @return the project version the classes were built as
     */
    static String current() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                throw new IllegalStateException("version.properties is missing from the class path");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
