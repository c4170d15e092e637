; java.scm - definitions, calls and imports of Java (contract: src/lang/extract.h).
; Nesting gives containers: a method inside class Shop is Shop.add; a field declaration with two
; declarators (`int a, b;`) yields one field per name.

(class_declaration
  name: (identifier) @name
  body: (class_body) @body) @def.class

(interface_declaration
  name: (identifier) @name
  body: (interface_body) @body) @def.interface

(annotation_type_declaration
  name: (identifier) @name
  body: (annotation_type_body) @body) @def.interface

(enum_declaration
  name: (identifier) @name
  body: (enum_body) @body) @def.enum

(enum_constant
  name: (identifier) @name) @def.enumerator

(record_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @params
  body: (class_body) @body) @def.class

(method_declaration
  type: (_) @ret
  name: (identifier) @name
  parameters: (formal_parameters) @params) @def.method

(annotation_type_element_declaration
  type: (_) @ret
  name: (identifier) @name) @def.method

(constructor_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @params
  body: (constructor_body) @body) @def.method

(compact_constructor_declaration
  name: (identifier) @name
  body: (block) @body) @def.method

(field_declaration
  declarator: (variable_declarator
    name: (identifier) @name)) @def.field

(constant_declaration
  declarator: (variable_declarator
    name: (identifier) @name)) @def.const

; ---- calls: `a.b.f(x)` names f; `new T(...)` calls T's constructor
(method_invocation
  name: (identifier) @callee) @call

(object_creation_expression
  type: [
    (type_identifier) @callee
    (generic_type (type_identifier) @callee)
    (scoped_type_identifier (type_identifier) @callee .)
  ]) @call

; ---- imports: the imported name as written (`java.util.List`, `java.io` for `java.io.*`)
(import_declaration
  [
    (scoped_identifier)
    (identifier)
  ] @source) @import

(package_declaration
  [
    (scoped_identifier)
    (identifier)
  ] @name) @def.module
