package io.github.podcidr.k8s;

import java.io.IOException;

/**
 * A protobuf answer of kube-apiserver could not be read as what it claims to be: a length past its enclosing message
 * or past {@link SlimNodeProtobuf#MAX_OBJECT_BYTES}, a malformed varint, a cut message, a time out of range. Unlike
 * the other {@link IOException}s of a read (a connection reset, a stream cut by the network), it says that the bytes
 * themselves were wrong, so asking again for protobuf is likely to fail the same way: {@link ProtobufFallback} counts
 * these.
 */
final class ProtobufDecodeException extends IOException {
    private static final long serialVersionUID = 1L;

    ProtobufDecodeException(String message) {
        super(message);
    }

    ProtobufDecodeException(String message, Throwable cause) {
        super(message, cause);
    }
}
