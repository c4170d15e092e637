; php.scm - definitions, calls and imports of PHP (contract: src/lang/extract.h).
; `use` of namespaces and require/include with a literal path are imports; for
; `require __DIR__ . '/x.php'` the literal part is the source.

(namespace_definition
  name: (namespace_name) @name) @def.module

(class_declaration
  name: (name) @name
  body: (declaration_list) @body) @def.class

(interface_declaration
  name: (name) @name
  body: (declaration_list) @body) @def.interface

(trait_declaration
  name: (name) @name
  body: (declaration_list) @body) @def.trait

(enum_declaration
  name: (name) @name
  body: (enum_declaration_list) @body) @def.enum

(enum_case
  name: (name) @name) @def.enumerator

(function_definition
  name: (name) @name
  parameters: (formal_parameters) @params
  return_type: (_)? @ret
  body: (compound_statement) @body) @def.fn

(method_declaration
  name: (name) @name
  parameters: (formal_parameters) @params
  return_type: (_)? @ret) @def.method

(const_declaration
  (const_element
    (name) @name)) @def.const

(property_declaration
  (property_element
    name: (variable_name
      (name) @name))) @def.field

; ---- calls: f(), $o->f(), $o?->f(), C::f(), new C()
(function_call_expression
  function: [
    (name) @callee
    (qualified_name (name) @callee .)
  ]) @call

(member_call_expression
  name: (name) @callee) @call

(nullsafe_member_call_expression
  name: (name) @callee) @call

(scoped_call_expression
  name: (name) @callee) @call

(object_creation_expression
  [
    (name) @callee
    (qualified_name (name) @callee .)
  ]) @call

; ---- imports
(namespace_use_declaration
  (namespace_use_clause
    .
    [
      (qualified_name)
      (name)
    ] @source)) @import

(require_expression
  [
    (string (string_content) @source)
    (encapsed_string (string_content) @source)
    (binary_expression right: [
      (string (string_content) @source)
      (encapsed_string (string_content) @source)
    ])
  ]) @import

(require_once_expression
  [
    (string (string_content) @source)
    (encapsed_string (string_content) @source)
    (binary_expression right: [
      (string (string_content) @source)
      (encapsed_string (string_content) @source)
    ])
  ]) @import

(include_expression
  [
    (string (string_content) @source)
    (encapsed_string (string_content) @source)
    (binary_expression right: [
      (string (string_content) @source)
      (encapsed_string (string_content) @source)
    ])
  ]) @import

(include_once_expression
  [
    (string (string_content) @source)
    (encapsed_string (string_content) @source)
    (binary_expression right: [
      (string (string_content) @source)
      (encapsed_string (string_content) @source)
    ])
  ]) @import
