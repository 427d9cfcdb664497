"""``nglint lsp``: a language server (pygls, stdio) over the same engine as ``check``.

* ``analysis``: lint one document inside its tree, unsaved buffers over the disk;
* ``positions``: nglint's offsets and columns as LSP positions (UTF-16 units);
* ``hover``: directive-table and rule-page hovers;
* ``server``: the pygls wiring (diagnostics, code actions, hover).

Analysis runs in the server's main thread (pygls runs synchronous handlers on its
event loop there), so the SIGALRM bound on regex searches applies as on the command
line (``nglint.semantics.pcre.search``).  Off the main thread a search that could
backtrack would answer "unknown" instead.
"""
