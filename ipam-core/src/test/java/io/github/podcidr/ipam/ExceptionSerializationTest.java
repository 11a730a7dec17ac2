package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import org.junit.jupiter.api.Test;

/** Every exception of ipam-core, and {@link Cidr}, survive Java serialization; a forged Cidr stream is refused. */
class ExceptionSerializationTest {

    @SuppressWarnings("unchecked")
    static <T extends Serializable> T roundTrip(T value) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (T) in.readObject();
        }
    }

    @Test
    void cidrRoundTripsAsItsValue() throws Exception {
        for (String s : new String[] {"10.244.0.0/16", "fd00:10:244::/56", "::/0", "255.255.255.255/32"}) {
            Cidr c = Cidr.parse(s);
            Cidr back = roundTrip(c);
            assertEquals(c, back);
            assertEquals(s, back.toString());
        }
    }

    @Test
    void invalidCidrExceptionKeepsInputReasonAndMessage() throws Exception {
        InvalidCidrException e = assertThrows(InvalidCidrException.class, () -> Cidr.parse("10.0.0.1/8"));
        InvalidCidrException back = roundTrip(e);
        assertEquals(e.getMessage(), back.getMessage());
        assertEquals("10.0.0.1/8", back.input());
        assertEquals(InvalidCidrException.Reason.HOST_BITS_SET, back.reason());
    }

    @Test
    void cidrNotInPoolExceptionKeepsItsCidrs() throws Exception {
        SubnetPool p = SubnetPool.of(Cidr.parse("10.244.0.0/16"), 24);
        CidrNotInPoolException e = assertThrows(CidrNotInPoolException.class,
                () -> p.occupy(Cidr.parse("10.245.0.0/24")));
        CidrNotInPoolException back = roundTrip(e);
        assertEquals(e.getMessage(), back.getMessage());
        assertEquals(Cidr.parse("10.245.0.0/24"), back.cidr());
        assertEquals(Cidr.parse("10.244.0.0/16"), back.pool());
        assertEquals(24, back.nodePrefixLength());
    }

    @Test
    void poolExhaustedExceptionKeepsItsFigures() throws Exception {
        SubnetPool p = SubnetPool.of(Cidr.parse("10.244.0.0/24"), 24);
        p.allocate();
        PoolExhaustedException e = assertThrows(PoolExhaustedException.class, p::allocate);
        PoolExhaustedException back = roundTrip(e);
        assertEquals(e.getMessage(), back.getMessage());
        assertEquals(Cidr.parse("10.244.0.0/24"), back.pool());
        assertEquals(24, back.nodePrefixLength());
        assertEquals(1, back.capacity());
        assertEquals(1, back.used());
    }

    @Test
    void invalidPoolExceptionKeepsItsMessage() throws Exception {
        InvalidPoolException e = assertThrows(InvalidPoolException.class,
                () -> SubnetPool.of(Cidr.parse("10.244.0.0/16"), 8));
        assertEquals(e.getMessage(), roundTrip(e).getMessage());
    }

    /** A stream that claims to hold a Cidr's fields directly (not its serialized form) is refused. */
    @Test
    void aCidrIsNeverReadExceptThroughItsValidatingForm() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(Cidr.parse("10.0.0.0/8"));
        }
        byte[] stream = bytes.toByteArray();
        // The proxy's text is in the stream as UTF: replace it with a text of the same length that parses to nothing.
        String text = "10.0.0.0/8";
        int at = indexOf(stream, text.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        byte[] forged = stream.clone();
        System.arraycopy("10.0.0.1/8".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, forged, at, 10);
        InvalidObjectException e = assertThrows(InvalidObjectException.class, () -> {
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(forged))) {
                in.readObject();
            }
        });
        assertEquals("not a CIDR in a serialized Cidr: \"10.0.0.1/8\" has host bits set; the network is 10.0.0.0/8",
                e.getMessage());
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
