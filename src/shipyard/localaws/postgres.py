"""Real PostgreSQL servers behind the embedded AWS's RDS instances: one server per instance, on loopback.

Each instance gets its own cluster (initdb), its master user with the password of its managed secret, its
database, and a TLS certificate of its own; with rds.force_ssl = 1 in its parameter group, pg_hba.conf
rejects every connection without TLS, as RDS does. The servers come from the machine's PostgreSQL packages
(Debian's `postgresql`; `.ci/run` installs it), the newest major version found, which may differ from the
template's EngineVersion: the embedded AWS reports the template's version and says which one runs.

PostgreSQL refuses to run as root; when the embedded AWS runs as root the servers run as the `postgres` user.
"""

from __future__ import annotations

import datetime
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_lock = threading.Lock()
_servers: dict[str, Server] = {}


class PostgresMissing(Exception):
    """No PostgreSQL server binaries on this machine."""


def binaries() -> Path:
    """The newest PostgreSQL bin directory (SHIPYARD_POSTGRES_BIN wins)."""
    given = os.environ.get("SHIPYARD_POSTGRES_BIN")
    if given:
        return Path(given)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    if not found and shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent  # type: ignore[arg-type]
    if not found:
        raise PostgresMissing("the embedded AWS runs RDS instances on a real PostgreSQL server, and none is installed; "
                              "install it (Debian: apt-get install postgresql)")
    return Path(found[-1])


def _as_postgres_user() -> dict[str, object]:
    """Popen options that drop root to the postgres user (PostgreSQL will not run as root)."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam("postgres")

    def drop() -> None:
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return {"preexec_fn": drop, "env": {**os.environ, "HOME": "/tmp", "USER": "postgres"}}


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for item in [path, *path.rglob("*")]:
            os.chown(item, user.pw_uid, user.pw_gid)


def _certificate(directory: Path, name: str) -> None:
    """A self-signed server certificate, as each RDS instance has one (signed by the RDS CA on AWS)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
                   .not_valid_after(now + datetime.timedelta(days=365))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
                   .sign(key, hashes.SHA256()))
    (directory / "server.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file = directory / "server.key"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)


@dataclass
class Server:
    key: str  # account/region/identifier
    port: int
    user: str
    password: str
    database: str
    force_ssl: bool
    version: str = ""
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="shipyard-rds-")))
    process: subprocess.Popen | None = None
    log: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *argv: str, stdin: str | None = None) -> str:
        done = subprocess.run([str(binaries() / argv[0]), *argv[1:]], input=stdin, capture_output=True, text=True, timeout=120,
                              **_as_postgres_user())  # type: ignore[arg-type]
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {(done.stderr or done.stdout).strip()[-500:]}")
        return done.stdout

    def start(self) -> None:
        self.root.chmod(0o755)
        password_file = self.root / "password"
        password_file.write_text(self.password + "\n")
        _own(self.root)
        self._run("initdb", "-D", str(self.data), "-U", self.user, f"--pwfile={password_file}", "--auth-local=trust",
                  "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions")
        password_file.unlink()
        _certificate(self.data, self.key)
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.root}'\n"
                       "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nfsync = off\n"
                       "max_connections = 100\nshared_buffers = 16MB\n")
        rules = ["local all all trust", "hostssl all all 127.0.0.1/32 scram-sha-256"]
        rules.append("hostnossl all all 0.0.0.0/0 reject" if self.force_ssl else "host all all 127.0.0.1/32 scram-sha-256")
        (self.data / "pg_hba.conf").write_text("\n".join(rules) + "\n")
        _own(self.root)
        self.version = self._run("postgres", "--version").strip()
        self.process = subprocess.Popen([str(binaries() / "postgres"), "-D", str(self.data)], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, **_as_postgres_user())  # type: ignore[arg-type]
        threading.Thread(target=self._pump, daemon=True, name=f"postgres-{self.port}").start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = subprocess.run([str(binaries() / "pg_isready"), "-h", str(self.root), "-p", str(self.port)], capture_output=True)
            if ready.returncode == 0:
                break
            if self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL did not start: {' '.join(self.log[-5:])}")
            time.sleep(0.1)
        else:
            raise RuntimeError("PostgreSQL did not accept connections within 30 s")
        self.sql(f'CREATE DATABASE "{self.database}"', database="postgres")

    def _pump(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line.rstrip())
            del self.log[:-200]

    def sql(self, statement: str, *, database: str | None = None) -> str:
        """Run SQL as the master user over the server's own socket (as RDS's own management would)."""
        return self._run("psql", "-h", str(self.root), "-p", str(self.port), "-U", self.user, "-d", database or self.database,
                         "-v", "ON_ERROR_STOP=1", "-At", "-c", statement)

    def set_password(self, password: str) -> None:
        escaped = password.replace("'", "''")
        self.sql(f"ALTER ROLE \"{self.user}\" PASSWORD '{escaped}'")
        self.password = password

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start(key: str, *, port: int, user: str, password: str, database: str, force_ssl: bool) -> Server:
    server = Server(key, port, user, password, database, force_ssl)
    server.start()
    with _lock:
        _servers[key] = server
    return server


def find(key: str) -> Server | None:
    with _lock:
        return _servers.get(key)


def stop(key: str) -> None:
    with _lock:
        server = _servers.pop(key, None)
    if server is not None:
        server.stop()


def stop_all() -> None:
    with _lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.stop()
