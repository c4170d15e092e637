; bash.scm - definitions, calls and imports of Bash (contract: src/lang/extract.h).
; Every simple command is a call site (functions and programs alike: the index resolves names);
; `source f` and `. f` are imports.

(function_definition
  name: (word) @name
  body: (_) @body) @def.fn

(command
  name: (command_name
    (word) @callee)) @call

(command
  name: (command_name
    (word) @_cmd)
  .
  argument: [
    (word)
    (string)
    (raw_string)
    (concatenation)
  ] @source
  (#any-of? @_cmd "source" ".")) @import
