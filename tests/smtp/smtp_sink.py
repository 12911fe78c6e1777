#!/usr/bin/env python3
"""A local SMTP sink for the tests of Tabella's mail module.

Usage:
    smtp_sink.py --dir OUT_DIR [--tls-cert PEM --tls-key PEM] [--require-starttls]
                 [--implicit-tls] [--auth USER:PASSWORD]
                 [--tempfail ADDR:N ...] [--reject ADDR ...]

It listens on 127.0.0.1 on a port the system picks, prints exactly one line
``listening 127.0.0.1:PORT`` to stdout (flushed), and then:

* writes every accepted message, byte for byte as received after the DATA
  command (dot-unstuffed, CRLF line endings), to ``OUT_DIR/NNNN.eml``
  (0001, 0002, ...), through a temporary file and an atomic rename, so a
  reader never sees a partial file;
* offers STARTTLS when ``--tls-cert``/``--tls-key`` are given (and with
  ``--require-starttls`` refuses MAIL/RCPT/DATA before it); with
  ``--implicit-tls`` the whole connection is TLS from the start (smtps);
* with ``--auth USER:PASSWORD`` requires AUTH PLAIN/LOGIN (only over TLS when
  TLS is configured) with exactly those credentials;
* answers ``451`` to RCPT for an address given as ``--tempfail ADDR:N`` for its
  first N attempts (then accepts it), and ``550`` for ``--reject ADDR``
  (addresses compare case-insensitively);
* exits when its standard input reaches end of file (so it dies with the
  process that started it), or on SIGTERM/SIGINT.

It never prints or logs message contents. Requires Python >= 3.11 and
aiosmtpd (see requirements.txt).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import ssl
import sys
import tempfile
import threading
import warnings
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def parse_tempfail(value: str) -> tuple[str, int]:
    address, sep, count = value.rpartition(":")
    if not sep or not address:
        raise argparse.ArgumentTypeError(f"expected ADDR:N, got {value!r}")
    try:
        n = int(count)
    except ValueError:
        raise argparse.ArgumentTypeError(f"N must be an integer in {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"N must not be negative in {value!r}")
    return address.lower(), n


def parse_auth(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise argparse.ArgumentTypeError("expected USER:PASSWORD")
    return user, password


class Sink:
    """aiosmtpd handler: per-address RCPT verdicts and atomic .eml files."""

    def __init__(self, out_dir: Path, tempfail: dict[str, int], reject: set[str]):
        self.out_dir = out_dir
        self.tempfail_left = dict(tempfail)
        self.reject = reject
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        key = address.lower()
        if key in self.reject:
            return "550 5.1.1 Recipient address rejected: mailbox unavailable"
        left = self.tempfail_left.get(key, 0)
        if left > 0:
            self.tempfail_left[key] = left - 1
            return "451 4.3.0 Temporary failure, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = f"{self.count:04d}.eml"
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".eml", dir=self.out_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.out_dir / name)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return f"250 2.0.0 OK queued as {self.count:04d}"


def make_authenticator(user: str, password: str):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)

    return authenticator


async def serve(args: argparse.Namespace) -> None:
    out_dir = Path(args.dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    tls_context = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise SystemExit("--tls-cert and --tls-key go together")
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    if (args.require_starttls or args.implicit_tls) and tls_context is None:
        raise SystemExit("--require-starttls and --implicit-tls need --tls-cert and --tls-key")

    tempfail = dict(args.tempfail or [])
    reject = {a.lower() for a in (args.reject or [])}
    handler = Sink(out_dir, tempfail, reject)

    smtp_kwargs = dict(hostname="sink.test", ident="tabella-smtp-sink")
    if args.auth:
        smtp_kwargs.update(
            authenticator=make_authenticator(*args.auth),
            auth_required=True,
            # AUTH only after STARTTLS when STARTTLS is offered; with implicit TLS the whole
            # connection is encrypted (aiosmtpd cannot tell), and with no TLS configured at all
            # plain AUTH is allowed for testing.
            auth_require_tls=tls_context is not None and not args.implicit_tls,
        )
        warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")

    def factory():
        if args.implicit_tls:
            return SMTP(handler, **smtp_kwargs)
        return SMTP(
            handler,
            tls_context=tls_context,
            require_starttls=args.require_starttls,
            **smtp_kwargs,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        factory,
        host="127.0.0.1",
        port=0,
        ssl=tls_context if args.implicit_tls else None,
    )
    port = server.sockets[0].getsockname()[1]

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def watch_stdin() -> None:
        # os.read on the raw descriptor: a daemon thread blocked in sys.stdin's buffered
        # reader would hold its lock and abort the interpreter at shutdown.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        try:
            loop.call_soon_threadsafe(stop.set)
        except RuntimeError:  # the loop is already closed: we are exiting anyway
            pass

    threading.Thread(target=watch_stdin, name="stdin-eof", daemon=True).start()

    sys.stdout.write(f"listening 127.0.0.1:{port}\n")
    sys.stdout.flush()

    try:
        await stop.wait()
    finally:
        server.close()
        # Python >= 3.12 waits in wait_closed() for open client connections (a client's idle
        # pooled connection would hold us up): drop them, and do not wait long regardless.
        close_clients = getattr(server, "close_clients", None)
        if close_clients is not None:
            close_clients()
        try:
            await asyncio.wait_for(server.wait_closed(), timeout=2)
        except (asyncio.TimeoutError, TimeoutError):
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, help="where accepted messages go (NNNN.eml)")
    parser.add_argument("--tls-cert", help="PEM certificate chain for TLS")
    parser.add_argument("--tls-key", help="PEM private key for TLS")
    parser.add_argument(
        "--require-starttls", action="store_true", help="refuse mail before STARTTLS"
    )
    parser.add_argument(
        "--implicit-tls", action="store_true", help="TLS from the first byte (smtps)"
    )
    parser.add_argument("--auth", type=parse_auth, metavar="USER:PASSWORD")
    parser.add_argument(
        "--tempfail",
        type=parse_tempfail,
        nargs="+",
        action="extend",
        metavar="ADDR:N",
        help="answer 451 to RCPT for ADDR for its first N attempts",
    )
    parser.add_argument(
        "--reject", nargs="+", action="extend", metavar="ADDR", help="answer 550 to RCPT for ADDR"
    )
    args = parser.parse_args(argv)

    # aiosmtpd logs session details at INFO/DEBUG; keep only real problems, on stderr.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("mail.log").setLevel(logging.WARNING)

    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
