"""An `include` whose file does not exist or cannot be read, or an include cycle.

## What it does
Follows every `include` as nginx does (relative paths against the directory of
the main configuration file, globs sorted) and reports a plain (non-glob) path
that does not exist or cannot be read, and a file that includes itself through
a chain of includes.  An include (plain or glob match) of a directory is an
error, as in nginx (`pread() "..." failed (21: Is a directory)`), and so is a
symlink loop (`(40: Too many levels of symbolic links)`) and anything that is not
a regular file: a FIFO (nginx would block on it), a device such as `/dev/zero`
or a `/proc` entry (nginx reads their reported size, 0 bytes, of them: nothing).
nglint never opens a device and opens a FIFO without blocking
(`nglint/reader.py`).  A glob over a folder nglint cannot read matches nothing
there, as nginx's `glob()` without `GLOB_ERR` does.

## Why is this bad?
nginx checks that a non-glob include can be opened: `nginx -t` fails with
`open() "..." failed (2: No such file or directory)`.  A glob that matches
nothing is not an error and is not reported.  An include cycle makes nginx
recurse until it runs out of file descriptors.

## Example
```nginx
http {
    include snippets/jupyter-proxy.conf;   # the file was never deployed
}
```

## Use instead
Deploy the file, correct the path, or use a glob (`include conf.d/*.conf;`) when
the file is optional.

## Sources
- https://nginx.org/en/docs/ngx_core_module.html#include
- nginx `src/core/ngx_conf_file.c` (`ngx_conf_include`): a path without glob
  characters is opened directly, a glob may match nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.findings import Severity

CODE = "NG002"
NAME = "include-not-found"
SEVERITY = "error"
FIXABLE = False


def check(context: Context) -> Iterator[Report]:
    for problem in context.tree.problems:
        if problem.kind == "include":
            severity = Severity.parse(problem.severity) if problem.severity else None
            yield Report(problem.message, problem=problem, severity=severity)
