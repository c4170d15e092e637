; JavaScript: functions, generators, classes, methods, class fields, functions assigned to
; const/let/var, top-level consts and vars, calls, imports (import, export-from, require,
; dynamic import). Exported = inside an export statement (engine rule). Patterns go from
; specific to general: a declarator whose value is a function is a fn, not a const.

(function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @params
  body: (statement_block) @body) @def.fn

(generator_function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @params
  body: (statement_block) @body) @def.fn

(class_declaration
  name: (identifier) @name
  body: (class_body) @body) @def.class

(method_definition
  name: (_) @name
  parameters: (formal_parameters) @params
  body: (statement_block) @body) @def.method

(field_definition
  property: (_) @name) @def.field

(lexical_declaration
  (variable_declarator
    name: (identifier) @name
    value: [
      (arrow_function parameters: (formal_parameters) @params body: (_) @body)
      (arrow_function parameter: (identifier) @params body: (_) @body)
      (function_expression parameters: (formal_parameters) @params body: (statement_block) @body)
      (generator_function parameters: (formal_parameters) @params body: (statement_block) @body)
    ])) @def.fn

(variable_declaration
  (variable_declarator
    name: (identifier) @name
    value: [
      (arrow_function parameters: (formal_parameters) @params body: (_) @body)
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

; JSX: a capitalized element is a component used (called) here
(jsx_self_closing_element
  name: (identifier) @callee
  (#match? @callee "^[A-Z]")) @call

(jsx_opening_element
  name: (identifier) @callee
  (#match? @callee "^[A-Z]")) @call
