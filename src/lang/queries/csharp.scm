; csharp.scm - definitions, calls and imports of C# (contract: src/lang/extract.h).
; Namespaces are modules, so their members are qualified by them: Shop.Orders.Order.Find.

(namespace_declaration
  name: (_) @name
  body: (declaration_list) @body) @def.module

(file_scoped_namespace_declaration
  name: (_) @name) @def.module

(class_declaration
  name: (identifier) @name
  body: (declaration_list) @body) @def.class

(struct_declaration
  name: (identifier) @name
  body: (declaration_list) @body) @def.struct

(interface_declaration
  name: (identifier) @name
  body: (declaration_list) @body) @def.interface

(record_declaration
  name: (identifier) @name) @def.class

(enum_declaration
  name: (identifier) @name
  body: (enum_member_declaration_list) @body) @def.enum

(enum_member_declaration
  name: (identifier) @name) @def.enumerator

(delegate_declaration
  type: (_) @ret
  name: (identifier) @name
  parameters: (parameter_list) @params) @def.type

(method_declaration
  returns: (_) @ret
  name: (identifier) @name
  parameters: (parameter_list) @params) @def.method

(constructor_declaration
  name: (identifier) @name
  parameters: (parameter_list) @params) @def.method

(destructor_declaration
  name: (identifier) @name
  parameters: (parameter_list) @params) @def.method

(local_function_statement
  type: (_) @ret
  name: (identifier) @name
  parameters: (parameter_list) @params) @def.fn

(property_declaration
  type: (_) @ret
  name: (identifier) @name) @def.field

(field_declaration
  (variable_declaration
    (variable_declarator
      name: (identifier) @name))) @def.field

(event_field_declaration
  (variable_declaration
    (variable_declarator
      name: (identifier) @name))) @def.field

; ---- calls: `a.B(x)` and `B<T>(x)` name B; `new T()` calls T's constructor
(invocation_expression
  function: [
    (identifier) @callee
    (generic_name (identifier) @callee)
    (member_access_expression name: [
      (identifier) @callee
      (generic_name (identifier) @callee)
    ])
  ]) @call

(object_creation_expression
  type: [
    (identifier) @callee
    (generic_name (identifier) @callee)
    (qualified_name name: (identifier) @callee)
  ]) @call

; ---- imports: `using System.Text;`, `using static System.Math;`, `using J = System.Text.Json;`
(using_directive
  !name
  [
    (identifier)
    (qualified_name)
  ] @source) @import

(using_directive
  name: (identifier)
  .
  [
    (identifier)
    (qualified_name)
  ] @source) @import
