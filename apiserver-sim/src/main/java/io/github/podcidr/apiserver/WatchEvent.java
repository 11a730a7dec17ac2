package io.github.podcidr.apiserver;

/**
 * One change in the store, kept in the history window and fanned out to watchers.
 *
 * @param type ADDED, MODIFIED or DELETED
 * @param object the object after the change (for DELETED: its last state, with the deletion's resourceVersion)
 * @param previous the object before the change, or null for ADDED; used to turn a MODIFIED that leaves or enters
 *     a watcher's selector into DELETED or ADDED, as the watch cache does
 */
record WatchEvent(String type, StoredObject object, StoredObject previous) {
  long resourceVersion() {
    return object.resourceVersion;
  }
}
