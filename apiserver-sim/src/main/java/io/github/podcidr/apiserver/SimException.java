package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A direct-access call failed as the HTTP request would have; carries the same Status. */
public final class SimException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int code;
  private final String reason;
  private final transient ObjectNode status;

  SimException(StatusException e) {
    super(e.code + " " + e.reason + ": " + e.getMessage());
    this.code = e.code;
    this.reason = e.reason;
    this.status = e.toStatus();
  }

  /** HTTP status code, e.g. 404, 409, 422. */
  public int code() {
    return code;
  }

  /** Status reason, e.g. {@code NotFound}, {@code AlreadyExists}, {@code Conflict}, {@code Invalid}. */
  public String reason() {
    return reason;
  }

  /** The full Status object. */
  public ObjectNode status() {
    return status.deepCopy();
  }
}
