#!/usr/bin/env python3
"""Prints a free TCP port on 127.0.0.1, chosen below the kernel's ephemeral range (32768 and up), where
outgoing connections would otherwise take it between this check and the server's bind. A port handed out stays
reserved for ten minutes (a marker file, created exclusively), so scripts that ask for several ports before
starting anything never get the same one twice, even from separate runs at the same time."""
import os
import random
import socket
import tempfile
import time

RESERVATIONS = os.path.join(tempfile.gettempdir(), "proxyfleet-bench-ports")
RESERVED_SECONDS = 600


def reserve(port):
    marker = os.path.join(RESERVATIONS, str(port))
    try:
        if time.time() - os.path.getmtime(marker) > RESERVED_SECONDS:
            os.unlink(marker)
    except OSError:
        pass
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


os.makedirs(RESERVATIONS, exist_ok=True)
for _ in range(500):
    port = random.randint(20000, 31999)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    if reserve(port):
        print(port)
        break
