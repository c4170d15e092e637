; C++: namespaces, classes, structs, unions, enums, functions and methods (in class bodies and
; qualified out-of-class `A::f`), member prototypes, fields, typedefs and `using` aliases,
; globals, macros, calls and #include. @name may be a declarator or a qualified name: the engine
; finds the identifier and the A::B scope (extract.h).

(namespace_definition
  name: (_) @name
  body: (declaration_list) @body) @def.module

(class_specifier
  name: (_) @name
  body: (field_declaration_list) @body) @def.class

(struct_specifier
  name: (_) @name
  body: (field_declaration_list) @body) @def.struct

(union_specifier
  name: (_) @name
  body: (field_declaration_list) @body) @def.union

(enum_specifier
  name: (_) @name
  body: (enumerator_list) @body) @def.enum

(enumerator
  name: (identifier) @name) @def.enumerator

; (no type: constructors, destructors, conversion operators; no body: `A() = default;`)
(function_definition
  type: (_)? @ret
  declarator: (_) @name
  body: (_)? @body) @def.fn

(declaration
  type: (_) @ret
  declarator: (_) @name) @def.var

; constructor/destructor prototypes in class bodies
(declaration
  declarator: (function_declarator) @name) @def.fn

(field_declaration
  type: (_) @ret
  declarator: (_) @name) @def.field

(type_definition
  declarator: (_) @name) @def.type

(alias_declaration
  name: (type_identifier) @name) @def.type

(concept_definition
  name: (identifier) @name) @def.type

(preproc_function_def
  name: (identifier) @name
  parameters: (preproc_params) @params) @def.macro

(preproc_def
  name: (identifier) @name) @def.macro

(call_expression
  function: (identifier) @callee) @call

(call_expression
  function: (field_expression
    field: (_) @callee)) @call

(call_expression
  function: (qualified_identifier) @callee) @call

(call_expression
  function: (template_function
    name: (_) @callee)) @call

(new_expression
  type: (_) @callee) @call

(preproc_include
  path: (_) @source) @import
