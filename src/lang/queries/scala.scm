; scala.scm - definitions, calls and imports of Scala 2 and 3 (contract: src/lang/extract.h).
; A def in a class, object, trait or enum body is a method, elsewhere a fn; vals and vars in a
; template body are fields, at top level (Scala 3) vars. `import a.b.c` has its path as several
; `path:` nodes, captured together as @source (see the imports below).

(package_clause
  name: (package_identifier) @name) @def.module

(class_definition
  name: (identifier) @name) @def.class

(object_definition
  name: (identifier) @name) @def.class

(trait_definition
  name: (identifier) @name) @def.trait

(enum_definition
  name: (identifier) @name) @def.enum

(enum_case_definitions
  [
    (simple_enum_case name: (identifier) @name)
    (full_enum_case name: (identifier) @name)
  ] @def.enumerator)

(type_definition
  name: (type_identifier) @name) @def.type

(template_body
  (function_definition
    name: (identifier) @name
    parameters: (parameters)? @params
    return_type: (_)? @ret
    body: (_) @body) @def.method)

(template_body
  (function_declaration
    name: (identifier) @name
    parameters: (parameters)? @params
    return_type: (_)? @ret) @def.method)

(compilation_unit
  (function_definition
    name: (identifier) @name
    parameters: (parameters)? @params
    return_type: (_)? @ret
    body: (_) @body) @def.fn)

(block
  (function_definition
    name: (identifier) @name
    parameters: (parameters)? @params
    return_type: (_)? @ret
    body: (_) @body) @def.fn)

(template_body
  (val_definition
    pattern: (identifier) @name) @def.field)

(template_body
  (var_definition
    pattern: (identifier) @name) @def.field)

(template_body
  (val_declaration
    name: (identifier) @name) @def.field)

(compilation_unit
  (val_definition
    pattern: (identifier) @name) @def.var)

(compilation_unit
  (var_definition
    pattern: (identifier) @name) @def.var)

; ---- calls: f(x), a.b.f(x), f[T](x), new T(x)
(call_expression
  function: [
    (identifier) @callee
    (field_expression field: (identifier) @callee)
    (generic_function function: [
      (identifier) @callee
      (field_expression field: (identifier) @callee)
    ])
  ]) @call

(instance_expression
  .
  [
    (type_identifier) @callee
    (generic_type type: (type_identifier) @callee)
  ]) @call

; ---- imports: `import a.b.c` is a run of path nodes; one pattern per length (1-6) captures
; each segment as @source (a capture of several nodes spans from the first to the last), ending
; either the declaration or before `{x, y}` / `_` / `x => y`
(import_declaration
  . (identifier) @source
  .) @import
(import_declaration
  . (identifier) @source
  . [(namespace_selectors) (namespace_wildcard) (as_renamed_identifier)]) @import
(import_declaration
  . (identifier) @source
  . (identifier) @source
  .) @import
(import_declaration
  . (identifier) @source
  . (identifier) @source
  . [(namespace_selectors) (namespace_wildcard) (as_renamed_identifier)]) @import
(import_declaration
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  .) @import
(import_declaration
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . [(namespace_selectors) (namespace_wildcard) (as_renamed_identifier)]) @import
(import_declaration
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  .) @import
(import_declaration
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . [(namespace_selectors) (namespace_wildcard) (as_renamed_identifier)]) @import
(import_declaration
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  .) @import
(import_declaration
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . [(namespace_selectors) (namespace_wildcard) (as_renamed_identifier)]) @import
(import_declaration
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  .) @import
(import_declaration
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . (identifier) @source
  . [(namespace_selectors) (namespace_wildcard) (as_renamed_identifier)]) @import
