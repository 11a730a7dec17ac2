package io.github.podcidr.apiserver;

import java.time.Duration;

/** Tunables of one simulator instance, set through {@link ApiServerSim.Builder}. */
final class SimSettings {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  int port;
  /** Changes retained per resource for watches from an older resourceVersion (the watch cache's window). */
  int historyCapacity = 10_000;
  /** How often an idle watch that allows bookmarks gets one; kube-apiserver sends them about once a minute. */
  Duration bookmarkInterval = Duration.ofMinutes(1);
  /** Watch length when the client gives no timeoutSeconds (kube-apiserver: 30 to 60 minutes). */
  Duration defaultWatchTimeout = Duration.ofMinutes(30);
  /** Hold stored objects DEFLATE-compressed (about 4x less heap for nodes, an inflate per read). */
  boolean compressObjects;
  /** How long a chunked list's snapshot is kept for its continue token. */
  Duration continueTtl = Duration.ofMinutes(5);
}
