; Python: classes, functions (methods inside classes), module- and class-level assignments
; (UPPER_CASE names are const), calls, imports. The definition node is the class/def itself, not
; the decorated_definition: its start line is the `def` line, as ctags reports it. Assignments
; inside functions are locals: the engine drops them.

(class_definition
  name: (identifier) @name
  body: (block) @body) @def.class

(function_definition
  name: (identifier) @name
  parameters: (parameters) @params
  return_type: (_)? @ret
  body: (block) @body) @def.fn

; `f = lambda x: ...` is a function (as ctags has it)
(expression_statement
  (assignment
    left: (identifier) @name
    right: (lambda
      body: (_) @body)) @def.fn)

(expression_statement
  (assignment
    left: (identifier) @name) @def.const
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

(expression_statement
  (assignment
    left: (identifier) @name) @def.var)

(expression_statement
  (assignment
    left: (pattern_list
      (identifier) @name)) @def.var)

(expression_statement
  (assignment
    left: (tuple_pattern
      (identifier) @name)) @def.var)

(call
  function: (identifier) @callee) @call

(call
  function: (attribute
    attribute: (identifier) @callee)) @call

(import_statement
  name: (dotted_name) @source) @import

(import_statement
  name: (aliased_import
    name: (dotted_name) @source)) @import

(import_from_statement
  module_name: (_) @source) @import

(future_import_statement
  "__future__" @source) @import
