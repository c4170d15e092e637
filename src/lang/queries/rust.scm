; rust.scm - definitions, calls and imports of Rust (contract: src/lang/extract.h).
; Functions are `fn` at file, module or block level and `method` inside an impl or a trait, whose
; name (the implementing type) becomes their container: `impl Area for Shape { fn area }` gives
; Shape.area. Each function_item is matched by exactly one pattern (its parent decides).

; ---- functions and methods
(source_file
  (function_item
    name: (identifier) @name
    parameters: (parameters) @params
    return_type: (_)? @ret
    body: (block) @body) @def.fn)

(block
  (function_item
    name: (identifier) @name
    parameters: (parameters) @params
    return_type: (_)? @ret
    body: (block) @body) @def.fn)

(mod_item
  body: (declaration_list
    (function_item
      name: (identifier) @name
      parameters: (parameters) @params
      return_type: (_)? @ret
      body: (block) @body) @def.fn))

(impl_item
  body: (declaration_list
    (function_item
      name: (identifier) @name
      parameters: (parameters) @params
      return_type: (_)? @ret
      body: (block) @body) @def.method))

(trait_item
  body: (declaration_list
    (function_item
      name: (identifier) @name
      parameters: (parameters) @params
      return_type: (_)? @ret
      body: (block) @body) @def.method))

(trait_item
  body: (declaration_list
    (function_signature_item
      name: (identifier) @name
      parameters: (parameters) @params
      return_type: (_)? @ret) @def.method))

(foreign_mod_item
  body: (declaration_list
    (function_signature_item
      name: (identifier) @name
      parameters: (parameters) @params
      return_type: (_)? @ret) @def.fn))

; ---- types
(struct_item
  name: (type_identifier) @name) @def.struct

(union_item
  name: (type_identifier) @name) @def.union

(enum_item
  name: (type_identifier) @name) @def.enum

(enum_variant
  name: (identifier) @name) @def.enumerator

; struct and union fields (the fields of an enum variant `Rect { w, h }` are not listed: the
; variant is not a container, and ctags does not list them either)
(struct_item
  body: (field_declaration_list
    (field_declaration
      name: (field_identifier) @name) @def.field))

(union_item
  body: (field_declaration_list
    (field_declaration
      name: (field_identifier) @name) @def.field))

(trait_item
  name: (type_identifier) @name
  body: (declaration_list) @body) @def.trait

(type_item
  name: (type_identifier) @name) @def.type

(associated_type
  name: (type_identifier) @name) @def.type

; `impl Trait for Type` and `impl Type`: the type names the container of its methods
(impl_item
  type: [
    (type_identifier) @name
    (generic_type type: (type_identifier) @name)
    (scoped_type_identifier name: (type_identifier) @name)
  ]
  body: (declaration_list) @body) @def.impl

; ---- items
(const_item
  name: (identifier) @name) @def.const

(static_item
  name: (identifier) @name) @def.var

(macro_definition
  name: (identifier) @name) @def.macro

(mod_item
  name: (identifier) @name
  body: (declaration_list) @body) @def.module

; ---- calls
(call_expression
  function: [
    (identifier) @callee
    (field_expression field: (field_identifier) @callee)
    (scoped_identifier name: (identifier) @callee)
    (generic_function function: [
      (identifier) @callee
      (field_expression field: (field_identifier) @callee)
      (scoped_identifier name: (identifier) @callee)
    ])
  ]) @call

(macro_invocation
  macro: [
    (identifier) @callee
    (scoped_identifier name: (identifier) @callee)
  ]) @call

; ---- imports: `use a::b::{c, d}` keeps the path as written; `mod x;` and `extern crate x`
(use_declaration
  argument: (_) @source) @import

(extern_crate_declaration
  name: (identifier) @source) @import

(mod_item
  name: (identifier) @source
  !body) @import

; `mod util;` is both an import (of util.rs) and, as ctags lists it, a module definition
(mod_item
  name: (identifier) @name
  !body) @def.module
