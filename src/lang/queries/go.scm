; Go: funcs, methods (the receiver's type is the @scope: qname T.M), struct/interface/other
; type specs and aliases, struct fields, interface methods, package-level consts and vars
; (locals inside funcs are dropped by the engine), calls, import specs.
; Exported = initial upper case (engine rule).

; (no body: assembly-backed funcs)
(function_declaration
  name: (identifier) @name
  parameters: (parameter_list) @params
  result: (_)? @ret
  body: (block)? @body) @def.fn

(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [
        (type_identifier) @scope
        (pointer_type (type_identifier) @scope)
        (generic_type type: (type_identifier) @scope)
        (pointer_type (generic_type type: (type_identifier) @scope))
      ]))
  name: (field_identifier) @name
  parameters: (parameter_list) @params
  result: (_)? @ret
  body: (block) @body) @def.method

(type_spec
  name: (type_identifier) @name
  type: (struct_type (field_declaration_list) @body)) @def.struct

(type_spec
  name: (type_identifier) @name
  type: (interface_type) @body) @def.interface

(type_spec
  name: (type_identifier) @name) @def.type

(type_alias
  name: (type_identifier) @name) @def.type

(field_declaration
  name: (field_identifier) @name) @def.field

(method_elem
  name: (field_identifier) @name
  parameters: (parameter_list) @params
  result: (_)? @ret) @def.method

(const_spec
  name: (identifier) @name) @def.const

(var_spec
  name: (identifier) @name) @def.var

(call_expression
  function: (identifier) @callee) @call

(call_expression
  function: (selector_expression
    field: (field_identifier) @callee)) @call

(import_spec
  path: (_) @source) @import
