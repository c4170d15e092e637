; C: what Universal Ctags lists by default (functions, prototypes, macros, enumerators,
; struct/union members, typedefs, globals incl. extern, struct/union/enum tags), calls, #include.
; @name may be a whole declarator: the engine finds the identifier inside it, turns a var whose
; declarator declares a function into a prototype (fn), and drops locals of functions.

; (no type: K&R and macro-typed definitions)
(function_definition
  type: (_)? @ret
  declarator: (_) @name
  body: (compound_statement) @body) @def.fn

(declaration
  type: (_) @ret
  declarator: (_) @name) @def.var

(type_definition
  declarator: (_) @name) @def.type

; a declaration the parser could not finish (a trailing attribute macro: `f(void) __THROW;`,
; `static __always_inline __realloc_size(2) void *f(...)`) keeps its function declarator in an
; ERROR node
(ERROR
  (function_declarator
    declarator: (identifier) @name
    parameters: (parameter_list) @params) @def.fn)

(ERROR
  (pointer_declarator
    declarator: (function_declarator
      declarator: (identifier) @name
      parameters: (parameter_list) @params) @def.fn))

(struct_specifier
  name: (type_identifier) @name
  body: (field_declaration_list) @body) @def.struct

(union_specifier
  name: (type_identifier) @name
  body: (field_declaration_list) @body) @def.union

(enum_specifier
  name: (type_identifier) @name
  body: (enumerator_list) @body) @def.enum

(enumerator
  name: (identifier) @name) @def.enumerator

(field_declaration
  declarator: (_) @name) @def.field

(preproc_function_def
  name: (identifier) @name
  parameters: (preproc_params) @params) @def.macro

(preproc_def
  name: (identifier) @name) @def.macro

; a #define inside an enumerator list (glibc's `ABDAY_1, #define ABDAY_1 ABDAY_1`) parses as a
; preproc_call; the engine names it by the argument's first identifier. The enumerators after
; one are left in ERROR nodes.
(preproc_call
  directive: (preproc_directive) @_d
  argument: (preproc_arg) @name
  (#match? @_d "^#[ \t]*define$")) @def.macro

(enumerator_list
  (ERROR
    . (identifier) @name) @def.enumerator)

(call_expression
  function: (identifier) @callee) @call

(call_expression
  function: (field_expression
    field: (field_identifier) @callee)) @call

(preproc_include
  path: (_) @source) @import

; SYSCALL_DEFINE3(name, ...) { ... } and other macro-made definitions parse as a call statement
; followed by a block; named by the macro, as ctags names them. The body extends the definition.
(translation_unit
  (expression_statement
    (call_expression
      function: (identifier) @name
      arguments: (argument_list) @params)) @def.fn
  .
  (compound_statement) @body)
