; kotlin.scm - definitions, calls and imports of Kotlin (contract: src/lang/extract.h).
; A fun at file or block level is a fn, in a class/object body a method (companion object members
; nest under their class: Library.create). Properties are fields in a class body and vars (consts
; when `const val`) at file level; locals are not definitions.

(package_header
  (qualified_identifier) @name) @def.module

(class_declaration
  "interface"
  name: (identifier) @name) @def.interface

(class_declaration
  "class"
  name: (identifier) @name) @def.class

(object_declaration
  name: (identifier) @name) @def.class

(enum_entry
  .
  (identifier) @name) @def.enumerator

(type_alias
  type: (identifier) @name) @def.type

(source_file
  (function_declaration
    name: (identifier) @name
    (function_value_parameters) @params
    (function_body)? @body) @def.fn)

(block
  (function_declaration
    name: (identifier) @name
    (function_value_parameters) @params
    (function_body)? @body) @def.fn)

(class_body
  (function_declaration
    name: (identifier) @name
    (function_value_parameters) @params
    (function_body)? @body) @def.method)

(class_body
  (secondary_constructor
    "constructor" @name
    (function_value_parameters) @params) @def.method)

(class_body
  (property_declaration
    (variable_declaration
      (identifier) @name)) @def.field)

; `class Book(val title: String)`: a constructor parameter with val/var is a property
(class_parameter
  ["val" "var"]
  (identifier) @name) @def.field

((source_file
  (property_declaration
    (variable_declaration
      (identifier) @name)) @def.var)
  (#not-match? @def.var "^([a-z]+[ \t]+)*const[ \t]"))

((source_file
  (property_declaration
    (variable_declaration
      (identifier) @name)) @def.const)
  (#match? @def.const "^([a-z]+[ \t]+)*const[ \t]"))

; ---- calls: f(x), a.b.f(x), f { lambda }
(call_expression
  .
  [
    (identifier) @callee
    (navigation_expression
      (identifier) @callee .)
  ]) @call

; ---- imports
(import
  (qualified_identifier) @source) @import
