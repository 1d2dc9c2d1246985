#!/usr/bin/env python3
"""A real SMTP server for Castellan's tests, built on aiosmtpd.

usage: smtp_server.py PORT_FILE MAIL_DIR USER PASSWORD

Listens on 127.0.0.1 on a free port and writes the port to PORT_FILE once it accepts
connections. Every accepted message is stored as MAIL_DIR/NNNN.json with the envelope sender,
the recipients and the raw data. AUTH PLAIN and LOGIN are required and accepted for USER with
PASSWORD only; AUTH over plain TCP is explicitly allowed (auth_require_tls=False) because the
tests run without TLS on the loopback interface. Runs until stdin closes or it is killed.
"""

import json
import os
import socket
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Store:
    def __init__(self, mail_dir):
        self.mail_dir = mail_dir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
        }
        tmp = os.path.join(self.mail_dir, ".%04d.tmp" % self.count)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.mail_dir, "%04d.json" % self.count))
        return "250 Message accepted for delivery"


def main():
    # The warnings about AUTH without TLS are expected here (loopback only).
    warnings.filterwarnings("ignore")
    port_file, mail_dir, user, password = sys.argv[1:5]
    os.makedirs(mail_dir, exist_ok=True)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False: aiosmtpd answers with its standard 535 reply.
        return AuthResult(success=ok, handled=False)

    port = free_port()
    controller = Controller(
        Store(mail_dir),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, port_file)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
