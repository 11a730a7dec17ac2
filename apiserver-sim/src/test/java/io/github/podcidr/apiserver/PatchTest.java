package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The patch algorithms on plain documents (single quotes stand for double quotes). */
class PatchTest {
  private static JsonNode j(String s) {
    return Json.parse(s.replace('\'', '"').getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] b(String s) {
    return s.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "add member            | {'a':1}              | [{'op':'add','path':'/b','value':2}]                  | {'a':1,'b':2}",
      "add replaces member   | {'a':1}              | [{'op':'add','path':'/a','value':2}]                  | {'a':2}",
      "add at index          | {'l':[1,3]}          | [{'op':'add','path':'/l/1','value':2}]                | {'l':[1,2,3]}",
      "append with dash      | {'l':[1]}            | [{'op':'add','path':'/l/-','value':2}]                | {'l':[1,2]}",
      "remove array item     | {'l':[1,2,3]}        | [{'op':'remove','path':'/l/0'}]                       | {'l':[2,3]}",
      "replace               | {'a':{'b':1}}        | [{'op':'replace','path':'/a/b','value':'x'}]          | {'a':{'b':'x'}}",
      "move                  | {'a':1,'b':{}}       | [{'op':'move','from':'/a','path':'/b/c'}]             | {'b':{'c':1}}",
      "copy                  | {'a':[1]}            | [{'op':'copy','from':'/a','path':'/b'}]               | {'a':[1],'b':[1]}",
      "escaped pointer       | {'a/b':1,'m~n':2}    | [{'op':'remove','path':'/a~1b'},{'op':'remove','path':'/m~0n'}] | {}",
      "test then replace     | {'a':'x'}            | [{'op':'test','path':'/a','value':'x'},{'op':'replace','path':'/a','value':'y'}] | {'a':'y'}",
      "test absent as null   | {}                   | [{'op':'test','path':'/a','value':null},{'op':'add','path':'/a','value':1}] | {'a':1}",
      "replace missing adds  | {}                   | [{'op':'replace','path':'/a','value':1}]              | {'a':1}",
      "add without value     | {}                   | [{'op':'add','path':'/a'}]                            | {'a':null}",
      "negative index        | {'l':[1,2]}          | [{'op':'remove','path':'/l/-1'}]                      | {'l':[1]}",
      "first token not read  | {'a':1}              | [{'op':'remove','path':'x/a'}]                        | {}",
  })
  void jsonPatch(String name, String doc, String patch, String expected) {
    assertEquals(j(expected), JsonPatch.apply(j(doc), b(patch)));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "failed test           | {'a':'x'}   | [{'op':'test','path':'/a','value':'z'}]      | 422",
      "remove missing        | {}          | [{'op':'remove','path':'/a'}]                | 422",
      "test of missing parent| {}          | [{'op':'test','path':'/a/b','value':null}]   | 422",
      "test present vs null  | {'a':1}     | [{'op':'test','path':'/a','value':null}]     | 422",
      "empty path            | {}          | [{'op':'add','path':'','value':{}}]          | 422",
      "missing path          | {}          | [{'op':'add','value':1}]                     | 422",
      "add under missing     | {}          | [{'op':'add','path':'/a/b','value':1}]       | 422",
      "index out of range    | {'l':[]}    | [{'op':'add','path':'/l/3','value':1}]       | 422",
      "unknown op            | {}          | [{'op':'frob','path':'/a'}]                  | 422",
      "not an array          | {}          | {'op':'add','path':'/a','value':1}           | 400",
      "operation not object  | {}          | [1]                                          | 400",
      "pointer without slash | {}          | [{'op':'add','path':'a','value':1}]          | 422",
  })
  void jsonPatchFailures(String name, String doc, String patch, int code) {
    StatusException e = assertThrows(StatusException.class, () -> JsonPatch.apply(j(doc), b(patch)));
    assertEquals(code, e.code);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "merge maps            | {'a':{'b':1,'c':2}}  | {'a':{'b':3}}        | {'a':{'b':3,'c':2}}",
      "null deletes          | {'a':1,'b':2}        | {'a':null}           | {'b':2}",
      "arrays replaced       | {'l':[1,2]}          | {'l':[3]}            | {'l':[3]}",
      "nested null no-op     | {}                   | {'a':{'b':null}}     | {'a':{}}",
  })
  void mergePatch(String name, String doc, String patch, String expected) {
    assertEquals(j(expected), MergePatch.apply(j(doc), j(patch)));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "taints replaced       | {'spec':{'taints':[{'key':'a'},{'key':'b'}]}} | {'spec':{'taints':[{'key':'c'}]}} | {'spec':{'taints':[{'key':'c'}]}}",
      "podCIDRs union        | {'spec':{'podCIDRs':['x']}} | {'spec':{'podCIDRs':['x','y']}} | {'spec':{'podCIDRs':['x','y']}}",
      "conditions by type    | {'status':{'conditions':[{'type':'A','status':'1'},{'type':'B','status':'1'}]}} | {'status':{'conditions':[{'type':'B','status':'0'}]}} | {'status':{'conditions':[{'type':'A','status':'1'},{'type':'B','status':'0'}]}}",
      "delete by merge key   | {'status':{'addresses':[{'type':'A'},{'type':'B'}]}} | {'status':{'addresses':[{'type':'A','$patch':'delete'}]}} | {'status':{'addresses':[{'type':'B'}]}}",
      "replace directive     | {'status':{'conditions':[{'type':'A'}]}} | {'status':{'conditions':[{'type':'B'},{'$patch':'replace'}]}} | {'status':{'conditions':[{'type':'B'}]}}",
      "map replace directive | {'metadata':{'labels':{'a':'1','b':'2'}}} | {'metadata':{'labels':{'c':'3','$patch':'replace'}}} | {'metadata':{'labels':{'c':'3'}}}",
      "delete from primitive | {'metadata':{'finalizers':['a','b']}} | {'metadata':{'$deleteFromPrimitiveList/finalizers':['a']}} | {'metadata':{'finalizers':['b']}}",
      "setElementOrder kept  | {'spec':{'podCIDRs':['x']}} | {'spec':{'$setElementOrder/podCIDRs':['x'],'podCIDRs':['x']}} | {'spec':{'podCIDRs':['x']}}",
      "retainKeys            | {'spec':{'a':1,'b':2}} | {'spec':{'$retainKeys':['a','c'],'c':3}} | {'spec':{'a':1,'c':3}}",
      "null deletes          | {'spec':{'podCIDR':'x','unschedulable':true}} | {'spec':{'unschedulable':null}} | {'spec':{'podCIDR':'x'}}",
  })
  void strategicMergePatch(String name, String doc, String patch, String expected) {
    assertEquals(j(expected), StrategicMergePatch.apply(ResourceType.NODES, j(doc), j(patch)));
  }

  @org.junit.jupiter.api.Test
  void strategicMergeListItemWithoutMergeKeyIs400() {
    StatusException e = assertThrows(StatusException.class, () -> StrategicMergePatch.apply(ResourceType.NODES,
        j("{'status':{'conditions':[]}}"), j("{'status':{'conditions':[{'status':'x'}]}}")));
    assertEquals(400, e.code);
  }
}
