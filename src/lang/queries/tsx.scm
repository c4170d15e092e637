; TSX: the TypeScript query (included below, kept in one place) plus the JSX patterns at the
; end. The grammar of TSX is TypeScript's with JSX, so every TypeScript pattern compiles here.
; include: typescript.scm

; JSX: a capitalized element is a component used (called) here
(jsx_self_closing_element
  name: (identifier) @callee
  (#match? @callee "^[A-Z]")) @call

(jsx_opening_element
  name: (identifier) @callee
  (#match? @callee "^[A-Z]")) @call
