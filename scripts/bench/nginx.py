"""nginx on a free loopback port, serving files written into its root, in the foreground."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

NGINX_HOST = "127.0.0.4"
NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
    types {{ audio/mpeg mp3; }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    log_format timing '$msec $request_time $status $http_range $uri';
    access_log {work}/access.log timing;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    server {{
        listen {host}:{port};
        root {root};
        location /recordings/ {{ }}
    }}
}}
"""


def nginx_binary() -> str:
    """nginx from Debian's packages, installed when missing (as `make bench` may run on a
    fresh machine)."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )
    if found:
        return found
    print("  installing nginx (apt-get)", file=sys.stderr, flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        [*sudo, "apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL
    )
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-q", "nginx"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx:
    """nginx serving `root` on a free loopback port, in the foreground, logging each
    request's start time and whether it asked for a range."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.work = Path(tempfile.mkdtemp(prefix="aircall-bench-nginx-"))
        self.binary = nginx_binary()
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.version = ""

    def __enter__(self) -> Nginx:
        (self.root / "recordings").mkdir(parents=True, exist_ok=True)
        for folder in (self.root, self.root / "recordings"):
            folder.chmod(0o755)  # nginx's workers run as an unprivileged user
        with socket.socket() as probe:
            probe.bind((NGINX_HOST, 0))
            port = probe.getsockname()[1]
        conf = self.work / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(work=self.work, host=NGINX_HOST, port=port, root=self.root)
        )
        shown = subprocess.run([self.binary, "-v"], capture_output=True, text=True)
        self.version = shown.stderr.strip().split("/")[-1]
        self.process = subprocess.Popen(
            [
                self.binary,
                "-c",
                str(conf),
                "-p",
                str(self.work),
                "-e",
                str(self.work / "error.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://{NGINX_HOST}:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection((NGINX_HOST, port), 0.2):
                return self
            time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError(f"nginx did not start: {(self.work / 'error.log').read_text()[-800:]}")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        shutil.rmtree(self.work, ignore_errors=True)

    def publish(self, relative: str, chunks: Iterator[bytes]) -> None:
        target = self.root / relative
        with open(target, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        target.chmod(0o644)

    def clear_log(self) -> None:
        (self.work / "access.log").write_text("")  # nginx appends: truncating is safe

    def requests(self) -> list[tuple[float, bool]]:
        """(start time, asked for a range) of each request in the access log."""
        entries = []
        for line in (self.work / "access.log").read_text().splitlines():
            msec, took, _status, ranged, _uri = line.split(" ", 4)
            entries.append((float(msec) - float(took), ranged != "-"))
        return entries
