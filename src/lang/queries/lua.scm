; lua.scm - definitions, calls and imports of Lua (contract: src/lang/extract.h).
; `function f()`, `local function f()`, `function M.f()` and `M.f = function() end` define fn f;
; `function M:f()` defines method f (self-taking) with M as its scope (qname M.f). For the
; `M.f` forms the name is the last field, which is also what call sites name (`M.f(x)` calls
; f); M is a value, not a container, so they stay plain fns. `require "x"` / `require("x")`
; are imports.

(function_declaration
  name: [
    (identifier) @name
    (dot_index_expression field: (identifier) @name)
  ]
  parameters: (parameters) @params
  body: (block)? @body) @def.fn

(function_declaration
  name: (method_index_expression
    table: (identifier) @scope
    method: (identifier) @name)
  parameters: (parameters) @params
  body: (block)? @body) @def.method

(assignment_statement
  (variable_list
    .
    name: [
      (identifier) @name
      (dot_index_expression field: (identifier) @name)
    ])
  (expression_list
    .
    value: (function_definition
      parameters: (parameters) @params
      body: (block)? @body))) @def.fn

; `{ f = function() end }`: a function-valued field of a table constructor
(field
  name: (identifier) @name
  value: (function_definition
    parameters: (parameters) @params
    body: (block)? @body)) @def.fn

; ---- calls: f(x), M.f(x), o:f(x), f "s", f {t}
(function_call
  name: [
    (identifier) @callee
    (dot_index_expression field: (identifier) @callee)
    (method_index_expression method: (identifier) @callee)
  ]) @call

; ---- imports
(function_call
  name: (identifier) @_req
  arguments: [
    (arguments . (string content: (string_content) @source))
    (string content: (string_content) @source)
  ]
  (#eq? @_req "require")) @import
