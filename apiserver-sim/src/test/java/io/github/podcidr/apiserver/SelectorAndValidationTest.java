package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SelectorAndValidationTest {
  private static final StoredObject OBJ = new StoredObject(ResourceType.LEASES, "ns1", "obj",
      1, Map.of("app", "web", "tier", "front", "n", "7"), ObjectCodec.PLAIN, new byte[0]);

  @ParameterizedTest(name = "\"{0}\" -> {1}")
  @CsvSource(delimiter = '|', value = {
      "app=web                  | true",
      "app==web                 | true",
      "app!=web                 | false",
      "missing!=x               | true",
      "app in (web,api)         | true",
      "app notin (web)          | false",
      "app in(web)              | true",
      "tier notin(front,back)   | false",
      "missing notin (a)        | true",
      "app                      | true",
      "!app                     | false",
      "!missing                 | true",
      "app=web,tier=back        | false",
      "app=web, tier in (front) | true",
      "n>5                      | true",
      "n<5                      | false",
  })
  void labelSelectors(String selector, boolean matches) {
    assertEquals(matches, Selector.parse(selector, null).test(OBJ));
  }

  @Test
  void fieldSelectors() {
    assertEquals(true, Selector.parse(null, "metadata.name=obj,metadata.namespace==ns1").test(OBJ));
    assertEquals(false, Selector.parse(null, "metadata.name!=obj").test(OBJ));
    assertEquals(400, assertThrows(StatusException.class, () -> Selector.parse(null, "spec.x=1")).code);
    assertEquals(400, assertThrows(StatusException.class, () -> Selector.parse("app in web", null)).code);
    assertEquals(400, assertThrows(StatusException.class, () -> Selector.parse(null, "metadata.name")).code);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(nullValues = "null", value = {
      "10.0.0.0/8, false", "10.0.0.1/24, false", "0.0.0.0/0, false", "fd00::/64, true", "2001:db8::1/128, true",
      "10.0.0.0/33, null", "10.0.0.256/24, null", "10.0.0.0, null", "fd00::/129, null", "example.com/24, null",
      "10.0.0.0/, null", "/24, null", "fe80::1%eth0/64, null", "10.0.0/24, null"})
  void cidrFamilies(String cidr, Boolean v6) {
    assertEquals(v6, Validation.cidrFamily(cidr));
  }
}
