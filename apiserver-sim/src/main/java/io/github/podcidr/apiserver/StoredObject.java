package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * One immutable version of an object as stored: its identity, resourceVersion, labels (kept parsed for selectors)
 * and its JSON without {@code kind}/{@code apiVersion} (added back when served alone), held encoded by an
 * {@link ObjectCodec} (plain or compressed).
 */
final class StoredObject {
  final ResourceType type;
  /** Namespace, or "" for a cluster-scoped object. */
  final String namespace;
  final String name;
  final long resourceVersion;
  /** Labels with interned strings; never null. */
  final Map<String, String> labels;
  private final ObjectCodec codec;
  private final byte[] encoded;

  StoredObject(ResourceType type, String namespace, String name, long resourceVersion, Map<String, String> labels,
      ObjectCodec codec, byte[] encoded) {
    this.codec = codec;
    this.type = type;
    this.namespace = namespace;
    this.name = name;
    this.resourceVersion = resourceVersion;
    this.labels = labels;
    this.encoded = encoded;
  }

  /** Store key, ordered as etcd orders its keys: namespace then name. */
  String key() {
    return key(namespace, name);
  }

  static String key(String namespace, String name) {
    return namespace.isEmpty() ? name : namespace + "/" + name;
  }

  /** The JSON of the object without kind and apiVersion. */
  byte[] json() {
    return codec.decode(type, encoded);
  }

  /** Encoded size in the heap, for the memory report. */
  int encodedSize() {
    return encoded.length;
  }

  /** A fresh mutable tree of the object, with kind and apiVersion. */
  ObjectNode tree() {
    ObjectNode withKind = Json.object();
    withKind.put("kind", type.kind());
    withKind.put("apiVersion", type.apiVersion());
    withKind.setAll(Json.parseObject(json()));
    return withKind;
  }
}
