"""The TCP face of an embedded RDS instance: PostgreSQL's TLS negotiation in front of a server on a Unix socket.

A PostgreSQL client that wants TLS opens with an SSLRequest (a length of 8 and the code 80877103); the server
answers 'S' and the TLS handshake follows on the same connection, or 'N' to go on in clear ("Message Flow:
SSL Session Encryption", PostgreSQL protocol documentation). GSSAPI encryption requests are answered 'N'. This
front answers 'S' with the instance's own self-signed certificate (RDS instances present one signed by the RDS
CA; clients that verify it need that CA on AWS), then relays the connection to the server's socket. A client
that starts in clear on an instance whose parameter group sets rds.force_ssl = 1 gets PostgreSQL's own
refusal, an ErrorResponse with SQLSTATE 28000, and the connection closes.
"""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import struct
import tempfile
import threading
from pathlib import Path

SSL_REQUEST = 80877103
GSS_REQUEST = 80877104


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name[:64])])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
                   .not_valid_after(now + datetime.timedelta(days=365))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "server.crt", directory / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_file.chmod(0o600)
    return cert_file, key_file


def _refusal(message: str) -> bytes:
    """An ErrorResponse as PostgreSQL sends it to a client it will not serve."""
    fields = b"".join(code + value.encode() + b"\0" for code, value in
                      ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", "28000"), (b"M", message)))
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


def _read(connection: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            raise ConnectionError("the client went away")
        data += chunk
    return data


class TlsFront:
    def __init__(self, port: int, backend: Path, *, name: str, require_tls: bool) -> None:
        self.backend, self.require_tls = backend, require_tls
        self._directory = tempfile.TemporaryDirectory(prefix="shipyard-rds-tls-")
        cert, key = _certificate(Path(self._directory.name), name)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(cert, key)
        self.listener = socket.create_server(("127.0.0.1", port))
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True, name=f"rds-tls-{port}").start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            while True:
                head = _read(client, 8)
                length, code = struct.unpack("!II", head)
                if length == 8 and code == SSL_REQUEST:
                    client.sendall(b"S")
                    client = self.context.wrap_socket(client, server_side=True)
                    startup = _read(client, 4)
                    startup += _read(client, struct.unpack("!I", startup)[0] - 4)
                    break
                if length == 8 and code == GSS_REQUEST:
                    client.sendall(b"N")
                    continue
                if self.require_tls:
                    client.sendall(_refusal('pg_hba.conf rejects connection for host "127.0.0.1", no encryption '
                                            "(rds.force_ssl = 1)"))
                    client.close()
                    return
                startup = head + _read(client, length - 8)
                break
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.connect(str(self.backend))
            server.sendall(startup)
        except (OSError, ConnectionError, ssl.SSLError, struct.error):
            client.close()
            return
        threading.Thread(target=_pump, args=(server, client), daemon=True).start()
        _pump(client, server)

    def close(self) -> None:
        self._closed.set()
        self.listener.close()
        self._directory.cleanup()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
