#!/usr/bin/env python3
"""Prints a free TCP port on 127.0.0.1, chosen below the kernel's ephemeral range (32768 and up), where
outgoing connections would otherwise take it between this check and the server's bind."""
import random
import socket

for _ in range(500):
    port = random.randint(20000, 31999)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        print(port)
        break
    except OSError:
        pass
    finally:
        s.close()
