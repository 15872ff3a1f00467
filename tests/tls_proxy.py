"""A TLS front for the live server, as a reverse proxy gives Vigil in production.

Some senders refuse plain HTTP (PagerDuty's ``pagerduty`` client insists on
https://). ``tls_front`` makes a throwaway self-signed certificate for
localhost with the openssl command, listens on a free loopback port, and
relays each connection's bytes, decrypted, to the plain-HTTP address behind.
"""

import socket
import ssl
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "localhost.pem", directory / "localhost.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@contextmanager
def tls_front(backend_port: int, directory: Path):
    """Yield (https URL, CA file a client should trust) for a TLS listener relaying to ``backend_port``."""
    cert, key = self_signed(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopping = threading.Event()

    def serve():
        while not stopping.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            raw.settimeout(None)
            try:
                client = context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                raw.close()
                continue
            backend = socket.create_connection(("127.0.0.1", backend_port))
            for source, target in ((client, backend), (backend, client)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{listener.getsockname()[1]}", str(cert)
    finally:
        stopping.set()
        thread.join(timeout=2)
        listener.close()
