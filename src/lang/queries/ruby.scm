; ruby.scm - definitions, calls and imports of Ruby (contract: src/lang/extract.h).
; A `def` at file level is a fn, inside a class or module a method (`def self.x` and the defs of
; `class << self` too: their container is the enclosing class). Constants are assignments to a
; constant name. `require`/`require_relative` with a literal are imports.

(module
  name: [
    (constant) @name
    (scope_resolution name: (_) @name)
  ]) @def.module

(class
  name: [
    (constant) @name
    (scope_resolution name: (_) @name)
  ]) @def.class

(program
  (method
    name: (_) @name
    parameters: (method_parameters)? @params) @def.fn)

(body_statement
  (method
    name: (_) @name
    parameters: (method_parameters)? @params) @def.method)

(singleton_method
  name: (_) @name
  parameters: (method_parameters)? @params) @def.method

(assignment
  left: [
    (constant) @name
    (scope_resolution name: (constant) @name)
  ]) @def.const

; ---- calls: `a.b(x)`, `b x`, `b(x)`; a bare `b` without receiver or arguments is ambiguous
; with a local variable and is not counted
(call
  method: [
    (identifier)
    (constant)
  ] @callee) @call

; ---- imports
(call
  !receiver
  method: (identifier) @_req
  arguments: (argument_list
    .
    (string
      (string_content) @source))
  (#any-of? @_req "require" "require_relative" "load")) @import
