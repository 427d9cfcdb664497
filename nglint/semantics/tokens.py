"""Arguments as nginx's tokenizer hands them to directives.

Source: ``ngx_conf_read_token`` in ``src/core/ngx_conf_file.c``.
"""

from __future__ import annotations

__all__ = ["nginx_token"]


def nginx_token(arg: str) -> str:
    """An argument as nginx's tokenizer hands it to directives.

    ``ngx_conf_read_token`` turns ``\\\\``, ``\\"`` and ``\\'`` into the bare
    character and ``\\t \\r \\n`` into control characters, in quoted and bare
    tokens alike; crossplane keeps them (it only unescapes the enclosing quote).
    So ``location ~ \\\\.php$`` gives PCRE ``\\.php$``.
    """
    if "\\" not in arg:
        return arg
    out: list[str] = []
    i = 0
    while i < len(arg):
        char = arg[i]
        if char == "\\" and i + 1 < len(arg):
            nxt = arg[i + 1]
            if nxt in "\"'\\":
                out.append(nxt)
                i += 2
                continue
            if nxt in "trn":
                out.append({"t": "\t", "r": "\r", "n": "\n"}[nxt])
                i += 2
                continue
        out.append(char)
        i += 1
    return "".join(out)
