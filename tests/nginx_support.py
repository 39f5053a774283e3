"""Debian's nginx in front of test replicas, serving deploy/nginx.conf itself with its example values replaced.

Only what a test machine must change is replaced (addresses, ports, the host
name and the certificate, a self-signed one made with openssl for
`localhost`); the TLS, HSTS, trusted-host, forwarding and failover lines
are served as shipped. IPv6 listen lines are dropped: a test machine may have
no IPv6. `make test` installs nginx when it is missing.
"""

from __future__ import annotations

import getpass
import re
import shutil
import socket
import subprocess
from pathlib import Path

from tests.support import ROOT, missing, wait_until

DEPLOY_CONF = ROOT / "deploy" / "nginx.conf"
HOST = "localhost"
INSTALL = "run `make test` as root (it installs them) or `apt-get install nginx openssl`"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for `localhost`, valid for a day."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}"],
                   check=True, capture_output=True)
    return cert, key


def _replace(text: str, pattern: str, new: str, count: int = 0) -> str:
    out, n = re.subn(pattern, new, text, flags=re.M)
    if not n or (count and n != count):
        raise AssertionError(f"deploy/nginx.conf no longer matches {pattern!r} ({n} times): update tests/nginx_support.py")
    return out


def site_conf(replicas: list[str], http_port: int, https_port: int, cert: Path, key: Path) -> str:
    """deploy/nginx.conf for this machine: `replicas` are host:port of the test's `kb serve` processes."""
    text = DEPLOY_CONF.read_text()
    servers = iter(replicas)
    text = _replace(text, r"^(\s*server )10\.0\.0\.\d+:8000( .*;)$", lambda m: f"{m[1]}{next(servers)}{m[2]}",
                    len(replicas))
    text = _replace(text, r"^\s*listen \[::\]:.*\n", "")
    text = _replace(text, r"^(\s*listen )80\b", rf"\g<1>127.0.0.1:{http_port}")
    text = _replace(text, r"^(\s*listen )443\b", rf"\g<1>127.0.0.1:{https_port}")
    text = _replace(text, r"^(\s*ssl_certificate\s+)\S+;", rf"\g<1>{cert};", 1)
    text = _replace(text, r"^(\s*ssl_certificate_key\s+)\S+;", rf"\g<1>{key};", 1)
    return _replace(text, r"kb\.example\.com", HOST)


def main_conf(folder: Path, site: Path) -> str:
    """nginx's own top level, all in the test's folder (Debian's /etc/nginx/nginx.conf is not used)."""
    temp = " ".join(f"{kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"user {getpass.getuser()};\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
            f"error_log {folder / 'error.log'} warn;\nevents {{ worker_connections 512; }}\n"
            f"http {{\n  log_format upstreams '$request_time $status $request $upstream_addr $upstream_status';\n"
            f"  access_log {folder / 'access.log'} upstreams;\n  {temp}\n  include {site};\n}}\n")


class Nginx:
    def __init__(self, folder: Path, replicas: list[str], http_port: int, https_port: int):
        self.folder, self.http_port, self.https_port = folder, http_port, https_port
        self.cert, key = self_signed(folder)
        site = folder / "polykb.conf"
        site.write_text(site_conf(replicas, http_port, https_port, self.cert, key))
        self.conf = folder / "nginx.conf"
        self.conf.write_text(main_conf(folder, site))
        self.proc: subprocess.Popen | None = None

    def start(self):
        binary = nginx_binary()
        test = subprocess.run([binary, "-t", "-p", str(self.folder), "-c", str(self.conf)], capture_output=True,
                              text=True)
        assert test.returncode == 0, f"nginx refuses the rendered deploy/nginx.conf:\n{test.stderr}"
        self.proc = subprocess.Popen([binary, "-p", str(self.folder), "-c", str(self.conf), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.https_port, what="nginx")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)

    def log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def wait_for_port(port: int, what: str, timeout: float = 60, proc: subprocess.Popen | None = None):
    def listening() -> bool:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    wait_until(listening, timeout, f"{what} to listen on port {port}", interval=0.05)


def require_nginx():
    """Skip (or, under KB_REQUIRE_SERVERS=1, fail) the calling test when nginx or openssl is missing."""
    for what, found in (("nginx", nginx_binary()), ("openssl", shutil.which("openssl"))):
        if found is None:
            missing(what, INSTALL)
