"""Generate a large, realistic nginx tree for benchmarks.

`python benchmarks/generate.py OUT_DIR --servers N` writes `OUT_DIR/nginx.conf`
including `conf.d/*.conf`, with N servers spread over files of 50 servers
each: prefix, nested and regex locations, `if` blocks, maps, upstreams, and
about one server in ten fronting Jupyter (some correct, some broken the usual
ways).  About 27 lines per server, so 2,000 servers make about 54k lines.
"""

from __future__ import annotations

import argparse
from pathlib import Path

SERVERS_PER_FILE = 50

MAIN = """\
user www-data;
worker_processes auto;
events {
    worker_connections 1024;
}
http {
    include mime.types;
    default_type application/octet-stream;
    log_format main '$remote_addr - $remote_user [$time_local] "$request" $status';
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    sendfile on;
    keepalive_timeout 65;
    include conf.d/*.conf;
}
"""

PLAIN = """\
upstream app{i} {{
    server 10.0.{a}.{b}:3000;
}}
server {{
    listen 80;
    server_name site{i}.example.com www.site{i}.example.com;
    root /srv/site{i}/public;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    location / {{
        try_files $uri $uri/ @app;
    }}
    location @app {{
        proxy_pass http://app{i};
        proxy_read_timeout 30s;
    }}
    location /api/ {{
        proxy_pass http://app{i};
        location /api/admin/ {{
            allow 10.0.0.0/8;
            deny all;
            proxy_pass http://app{i};
        }}
    }}
    location ~* \\.(css|js|png|jpg)$ {{
        expires 30d;
    }}
    if ($request_method = TRACE) {{
        return 405;
    }}
}}
"""

JUPYTER = """\
upstream jupyter{i} {{
    server 127.0.0.1:{port};
}}
server {{
    listen 443 ssl;
    server_name lab{i}.example.com;
    ssl_certificate /etc/ssl/lab{i}.pem;
    ssl_certificate_key /etc/ssl/lab{i}.key;
    client_max_body_size 100m;
    location / {{
        proxy_pass http://jupyter{i};
        proxy_set_header Host $http_host;
        proxy_set_header X-Real-IP $remote_addr;
{websocket}    }}
    location ~* /(api/kernels/[^/]+/channels|terminals/websocket)/? {{
        proxy_pass http://jupyter{i};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_read_timeout 86400;
    }}
    location = /healthz {{
        return 204;
    }}
}}
"""

CORRECT_WEBSOCKET = """\
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_read_timeout 1d;
"""


def server(i: int) -> str:
    if i % 10 == 0:
        websocket = CORRECT_WEBSOCKET if i % 20 == 0 else ""
        return JUPYTER.format(i=i, port=8888 + i % 100, websocket=websocket)
    return PLAIN.format(i=i, a=(i // 250) % 250, b=i % 250)


def generate(out: Path, servers: int) -> int:
    """Write the tree; return its number of lines."""
    (out / "conf.d").mkdir(parents=True, exist_ok=True)
    (out / "nginx.conf").write_text(MAIN)
    (out / "mime.types").write_text("types {\n    text/html html;\n    text/css css;\n}\n")
    lines = MAIN.count("\n") + 4
    for start in range(0, servers, SERVERS_PER_FILE):
        text = "".join(server(i) for i in range(start, min(servers, start + SERVERS_PER_FILE)))
        (out / "conf.d" / f"sites-{start // SERVERS_PER_FILE:04d}.conf").write_text(text)
        lines += text.count("\n")
    return lines


def generate_flat(out: Path, servers: int) -> int:
    """A tree of ``servers`` files in ``conf.d/``, one server each (the benchmark's
    server text), included by one ``include conf.d/*.conf``; return its lines."""
    (out / "conf.d").mkdir(parents=True, exist_ok=True)
    (out / "nginx.conf").write_text(MAIN)
    (out / "mime.types").write_text("types {\n    text/html html;\n    text/css css;\n}\n")
    lines = MAIN.count("\n") + 4
    for i in range(servers):
        text = server(i)
        (out / "conf.d" / f"site-{i:06d}.conf").write_text(text)
        lines += text.count("\n")
    return lines


# -- hostile sizes (issue 19's "no quadratic paths"); each tree also passes nginx -t --

QUADRATIC_MAIN = """\
pid logs/nginx.pid;
error_log logs/error.log;
events {{}}
http {{
    access_log off;
    server {{
        listen 127.0.0.1:8080;
        location / {{
{body}
        }}
    }}
}}
"""


def _quadratic_main(out: Path, body: str) -> Path:
    (out / "logs").mkdir(parents=True, exist_ok=True)
    conf = out / "nginx.conf"
    conf.write_text(QUADRATIC_MAIN.format(body=body))
    return conf


def _address(i: int) -> str:
    return f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"


def generate_glob(out: Path, files: int) -> Path:
    """``files`` one-line files (``allow ADDRESS;``, each address distinct) in
    ``conf.d/``, all matched by one ``include conf.d/*.conf`` in a location; return
    the main file."""
    (out / "conf.d").mkdir(parents=True, exist_ok=True)
    for i in range(files):
        (out / "conf.d" / f"a{i:06d}.conf").write_text(f"allow {_address(i)};\n")
    return _quadratic_main(out, "            include conf.d/*.conf;")


def generate_repeated(out: Path, count: int) -> Path:
    """``count`` times ``proxy_read_timeout 60s;`` in one location: nginx refuses the
    second and later (``"proxy_read_timeout" directive is duplicate``), and nglint
    reports each as one NG011 finding (``count - 1`` findings).  Not an nginx -t tree."""
    body = "            proxy_read_timeout 60s;\n" * count
    return _quadratic_main(out, body.rstrip("\n"))


def generate_many(out: Path, count: int, per_file: int = 250_000) -> Path:
    """``count`` directives in one location, all different and valid (``allow`` of
    ``count`` distinct addresses), written in files of ``per_file`` lines each
    (about 5 MiB: nglint reads no file over 16 MiB) that the location includes in
    order (``include many/*.conf``); return the main file."""
    (out / "many").mkdir(parents=True, exist_ok=True)
    for part, start in enumerate(range(0, count, per_file)):
        stop = min(count, start + per_file)
        text = "".join(f"allow {_address(i)};\n" for i in range(start, stop))
        (out / "many" / f"part-{part:03d}.conf").write_text(text)
    return _quadratic_main(out, "            include many/*.conf;")


def generate_long_line(out: Path, size: int) -> Path:
    """One line of ``size`` bytes: ``set $long "qqq...";`` in a location (a parameter
    past nginx's 4 KiB limit, so NG001, and nginx -t refuses it)."""
    value = "q" * max(0, size - len('            set $long "";'))
    return _quadratic_main(out, f'            set $long "{value}";')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--servers", type=int, default=2000)
    args = parser.parse_args()
    print(generate(args.out, args.servers))


if __name__ == "__main__":
    main()
