"""Real PostgreSQL servers behind the embedded AWS's RDS instances: one server per instance, on loopback.

Each instance gets its own cluster (initdb), its master user with the password of its managed secret, and its
database. The server comes from the machine's PostgreSQL (Debian's `postgresql`, which `.ci/run` installs) or,
on a machine with only Python, from the `pgserver` wheel (PostgreSQL 16, built without OpenSSL). It listens on
a Unix socket only; clients reach it through a TLS front (tls_front.py) on the instance's TCP port, which
answers PostgreSQL's SSLRequest with a certificate of the instance's own and, where the parameter group says
rds.force_ssl = 1, refuses a connection without TLS with the error PostgreSQL itself sends. The major version
may differ from the template's EngineVersion; the embedded AWS reports the template's and logs the one it runs.

PostgreSQL refuses to run as root; run as root, the servers run as the `postgres` user (or `nobody`). That user
must reach the binaries: an installation below a private directory (a checkout in `mktemp -d`, mode 0700, with the
wheel in its virtualenv) is copied once to a readable one under the system's temporary directory.
"""

from __future__ import annotations

import glob
import importlib.util
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

from shipyard.localaws.rds.tls_front import TlsFront

_lock = threading.Lock()
_servers: dict[str, Server] = {}


class PostgresMissing(Exception):
    """No PostgreSQL server binaries on this machine."""


def binaries() -> Path:
    """The PostgreSQL bin directory (SHIPYARD_POSTGRES_BIN, else the newest installed one, else the pgserver wheel's),
    where the user the servers run as can reach it."""
    return _reachable(_installed_binaries())


def _installed_binaries() -> Path:
    given = os.environ.get("SHIPYARD_POSTGRES_BIN")
    if given:
        return Path(given)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    if found:
        return Path(found[-1])
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent  # type: ignore[arg-type]
    spec = importlib.util.find_spec("pgserver")  # located, not imported: only its binaries are used
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
        if (bundled / "initdb").exists():
            return bundled
    raise PostgresMissing("the embedded AWS runs RDS instances on a real PostgreSQL server, and none is installed; "
                          "install it (Debian: apt-get install postgresql) or reinstall shipyard, which brings pgserver")


def _others_reach(path: Path) -> bool:
    """Whether a user who is neither owner nor in the group may run `path`: others may search every directory above it."""
    directories = [d for d in path.resolve().parents]
    return all(d.stat().st_mode & 0o001 for d in directories) and bool(path.stat().st_mode & 0o001)


def _reachable(bin_dir: Path) -> Path:
    """bin_dir itself, unless root runs the servers as another user who cannot reach it: then a readable copy of its
    installation (bin, lib and share together, as PostgreSQL finds them relative to its binaries), beside the
    wheel's `<package>.libs` where its binaries load libraries from (their RPATH: $ORIGIN/../../../pgserver.libs)."""
    if os.geteuid() != 0 or _others_reach(bin_dir / "initdb"):
        return bin_dir
    install = bin_dir.resolve().parent
    package = install.parent
    libraries = package.parent / f"{package.name}.libs"
    stamp = f"{install.stat().st_ino}-{int((bin_dir / 'initdb').stat().st_mtime)}"
    copy = Path(tempfile.gettempdir()) / f"shipyard-postgres-{stamp}"
    with _lock:
        if not (copy / package.name / install.name / bin_dir.name / "initdb").exists():
            staging = Path(tempfile.mkdtemp(prefix="shipyard-postgres-", dir=copy.parent))
            shutil.copytree(install, staging / "tree" / package.name / install.name, symlinks=True)
            if libraries.is_dir():
                shutil.copytree(libraries, staging / "tree" / libraries.name, symlinks=True)
            for item in [staging, *staging.rglob("*")]:
                if not item.is_symlink():
                    item.chmod(item.stat().st_mode | (0o755 if item.is_dir() else 0o444))
            (staging / "tree").rename(copy)
            shutil.rmtree(staging, ignore_errors=True)
    return copy / package.name / install.name / bin_dir.name


def _service_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresMissing("PostgreSQL refuses to run as root, and this machine has neither a postgres nor a nobody user")


def _as_postgres_user() -> dict[str, object]:
    """Popen options that drop root to the postgres user (PostgreSQL will not run as root)."""
    if os.geteuid() != 0:
        return {}
    user = _service_user()

    def drop() -> None:
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return {"preexec_fn": drop, "env": {**os.environ, "HOME": "/tmp", "USER": "postgres"}}


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        user = _service_user()
        for item in [path, *path.rglob("*")]:
            os.chown(item, user.pw_uid, user.pw_gid)


def _run_program(*argv: str, stdin: str | None = None, password: str | None = None) -> str:
    """One of PostgreSQL's programs, as the postgres user; its output, or RuntimeError with its last words."""
    options = _as_postgres_user()
    if password is not None:
        options["env"] = {**dict(options.get("env") or os.environ), "PGPASSWORD": password}  # type: ignore[call-overload]
    done = subprocess.run([str(binaries() / argv[0]), *argv[1:]], input=stdin, capture_output=True, text=True, timeout=120,
                          **options)  # type: ignore[arg-type]
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


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
    front: TlsFront | None = None
    log: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *argv: str, stdin: str | None = None) -> str:
        return _run_program(*argv, stdin=stdin, password=self.password)

    def start(self) -> None:
        self.root.chmod(0o755)
        # A copy of a cluster initdb made once for this master user: initdb took a second of CPU for every instance.
        # Its bootstrap password is the template's; the instance's own is set once the server runs.
        template, template_password = _cluster_template(self.user)
        shutil.copytree(template, self.data)
        own_password, self.password = self.password, template_password
        with (self.data / "postgresql.conf").open("a") as conf:
            # Unix socket only: every client comes through the TLS front on the instance's port.
            conf.write(f"\nlisten_addresses = ''\nport = {self.port}\nunix_socket_directories = '{self.root}'\n"
                       "fsync = off\nmax_connections = 100\nshared_buffers = 16MB\n")
        (self.data / "pg_hba.conf").write_text("local all all scram-sha-256\n")
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
        self.set_password(own_password, database="postgres")
        self.sql(f'CREATE DATABASE "{self.database}"', database="postgres")
        self.front = TlsFront(self.port, self.root / f".s.PGSQL.{self.port}", name=self.key, require_tls=self.force_ssl)

    def _pump(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line.rstrip())
            del self.log[:-200]

    def sql(self, statement: str, *, database: str | None = None) -> str:
        """Run SQL as the master user over the server's own socket (as RDS's own management would)."""
        return self._run("psql", "-h", str(self.root), "-p", str(self.port), "-U", self.user, "-d", database or self.database,
                         "-v", "ON_ERROR_STOP=1", "-At", "-c", statement)

    def set_password(self, password: str, *, database: str | None = None) -> None:
        escaped = password.replace("'", "''")
        self.sql(f"ALTER ROLE \"{self.user}\" PASSWORD '{escaped}'", database=database)
        self.password = password

    def stop(self) -> None:
        if self.front is not None:
            self.front.close()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


# (the binaries' directory, master user) -> (a cluster their initdb made for that user, its bootstrap password)
_templates: dict[tuple[str, str], tuple[Path, str]] = {}
_templates_lock = threading.Lock()


def _cluster_template(user: str) -> tuple[Path, str]:
    """A data directory initdb made once per process for these binaries and `user` (scram-sha-256, UTF8, no locale),
    and its password."""
    import secrets

    key = (str(binaries()), user)
    with _templates_lock:
        if key not in _templates:
            root = Path(tempfile.mkdtemp(prefix="shipyard-rds-template-"))
            root.chmod(0o755)
            password = secrets.token_hex(16)
            (root / "password").write_text(password + "\n")
            _own(root)
            try:
                _run_program("initdb", "-D", str(root / "data"), "-U", user, f"--pwfile={root / 'password'}", "--auth=scram-sha-256",
                             "-E", "UTF8", "--no-locale", "--no-instructions", "--no-sync")
            finally:
                (root / "password").unlink()
            _templates[key] = (root / "data", password)
        return _templates[key]


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
    with _templates_lock:
        for data, _ in _templates.values():
            shutil.rmtree(data.parent, ignore_errors=True)
        _templates.clear()
