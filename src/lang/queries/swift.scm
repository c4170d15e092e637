; swift.scm - definitions, calls and imports of Swift (contract: src/lang/extract.h).
; class/struct/enum/actor are class_declaration with a declaration_kind; an extension is an impl
; named by the extended type, so its methods are qualified by it (Garage.count).

(class_declaration
  declaration_kind: "class"
  name: (type_identifier) @name) @def.class

(class_declaration
  declaration_kind: "actor"
  name: (type_identifier) @name) @def.class

(class_declaration
  declaration_kind: "struct"
  name: (type_identifier) @name) @def.struct

(class_declaration
  declaration_kind: "enum"
  name: (type_identifier) @name) @def.enum

(class_declaration
  declaration_kind: "extension"
  name: [
    (type_identifier) @name
    (user_type (type_identifier) @name .)
  ]) @def.impl

(protocol_declaration
  name: (type_identifier) @name) @def.interface

(enum_entry
  name: (simple_identifier) @name) @def.enumerator

(typealias_declaration
  name: (type_identifier) @name) @def.type

(source_file
  (function_declaration
    name: (simple_identifier) @name
    return_type: (_)? @ret
    body: (function_body) @body) @def.fn)

(statements
  (function_declaration
    name: (simple_identifier) @name
    return_type: (_)? @ret
    body: (function_body) @body) @def.fn)

(class_body
  (function_declaration
    name: (simple_identifier) @name
    return_type: (_)? @ret
    body: (function_body) @body) @def.method)

(enum_class_body
  (function_declaration
    name: (simple_identifier) @name
    return_type: (_)? @ret
    body: (function_body) @body) @def.method)

(protocol_function_declaration
  name: (simple_identifier) @name
  return_type: (_)? @ret) @def.method

(init_declaration
  name: "init" @name
  body: (function_body) @body) @def.method

(class_body
  (property_declaration
    name: (pattern
      bound_identifier: (simple_identifier) @name)) @def.field)

(protocol_property_declaration
  name: (pattern
    bound_identifier: (simple_identifier) @name)) @def.field

(source_file
  (property_declaration
    name: (pattern
      bound_identifier: (simple_identifier) @name)) @def.var)

; ---- calls: f(x), a.b.f(x), T(x)
(call_expression
  .
  [
    (simple_identifier) @callee
    (navigation_expression
      suffix: (navigation_suffix
        suffix: (simple_identifier) @callee))
  ]) @call

; ---- imports
(import_declaration
  (identifier) @source) @import
