; TypeScript (tsx.scm includes this file for the TSX grammar): the JavaScript patterns plus
; interfaces, type aliases, enums and their members, namespaces and ambient modules, abstract
; classes, overload and interface signatures, class and interface fields. Exported = inside an
; export statement (engine rule); members follow their container unless private/protected.

(function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @params
  return_type: (type_annotation)? @ret
  body: (statement_block) @body) @def.fn

(generator_function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @params
  body: (statement_block) @body) @def.fn

(class_declaration
  name: (type_identifier) @name
  body: (class_body) @body) @def.class

(abstract_class_declaration
  name: (type_identifier) @name
  body: (class_body) @body) @def.class

(interface_declaration
  name: (type_identifier) @name
  body: (_) @body) @def.interface

(type_alias_declaration
  name: (type_identifier) @name) @def.type

(enum_declaration
  name: (identifier) @name
  body: (enum_body) @body) @def.enum

(enum_body
  name: (property_identifier) @name @def.enumerator)

(enum_assignment
  name: (property_identifier) @name) @def.enumerator

(internal_module
  name: (_) @name
  body: (statement_block) @body) @def.module

(module
  name: (_) @name
  body: (statement_block) @body) @def.module

(function_signature
  name: (identifier) @name
  parameters: (formal_parameters) @params
  return_type: (type_annotation)? @ret) @def.fn

(method_signature
  name: (_) @name
  parameters: (formal_parameters) @params
  return_type: (type_annotation)? @ret) @def.method

(abstract_method_signature
  name: (_) @name
  parameters: (formal_parameters) @params
  return_type: (type_annotation)? @ret) @def.method

(property_signature
  name: (_) @name) @def.field

(public_field_definition
  name: (_) @name) @def.field

(method_definition
  name: (_) @name
  parameters: (formal_parameters) @params
  return_type: (type_annotation)? @ret
  body: (statement_block) @body) @def.method

(lexical_declaration
  (variable_declarator
    name: (identifier) @name
    value: [
      (arrow_function parameters: (formal_parameters) @params return_type: (type_annotation)? @ret body: (_) @body)
      (arrow_function parameter: (identifier) @params body: (_) @body)
      (function_expression parameters: (formal_parameters) @params body: (statement_block) @body)
      (generator_function parameters: (formal_parameters) @params body: (statement_block) @body)
    ])) @def.fn

(variable_declaration
  (variable_declarator
    name: (identifier) @name
    value: [
      (arrow_function parameters: (formal_parameters) @params return_type: (type_annotation)? @ret body: (_) @body)
      (arrow_function parameter: (identifier) @params body: (_) @body)
      (function_expression parameters: (formal_parameters) @params body: (statement_block) @body)
    ])) @def.fn

(lexical_declaration
  (variable_declarator
    name: (identifier) @name
    value: (class body: (class_body) @body))) @def.class

(lexical_declaration
  "const"
  (variable_declarator
    name: (identifier) @name)) @def.const

(lexical_declaration
  "let"
  (variable_declarator
    name: (identifier) @name)) @def.var

(variable_declaration
  (variable_declarator
    name: (identifier) @name)) @def.var

(call_expression
  function: (identifier) @callee) @call

(call_expression
  function: (member_expression
    property: (_) @callee)) @call

(new_expression
  constructor: (identifier) @callee) @call

(import_statement
  source: (string) @source) @import

(export_statement
  source: (string) @source) @import

(call_expression
  function: (identifier) @_req
  arguments: (arguments . (string) @source)
  (#eq? @_req "require")) @import

(call_expression
  function: (import)
  arguments: (arguments . (string) @source)) @import
