#!/usr/bin/env python3
"""Opens N MySQL client connections that log in and then stay idle until this process is killed.

    idle_clients.py HOST PORT USER PASSWORD COUNT

Only the standard library: the initial handshake (protocol v10) and mysql_native_password, including an
authentication switch request, are all it speaks. Prints "connected OK FAILED SECONDS" once every attempt
is done, the first few errors on stderr, then sleeps holding the connections.
"""
import hashlib
import signal
import socket
import struct
import sys
import time

CLIENT_LONG_PASSWORD = 0x1
CLIENT_LONG_FLAG = 0x4
CLIENT_PROTOCOL_41 = 0x200
CLIENT_TRANSACTIONS = 0x2000
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 0x80000
CLIENT_CAPABILITIES = (CLIENT_LONG_PASSWORD | CLIENT_LONG_FLAG | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS
                       | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH)
MAX_PACKET = 1 << 24
UTF8MB4_GENERAL_CI = 45
NATIVE_PLUGIN = b"mysql_native_password"
SCRAMBLE_LENGTH = 20
OK, EOF_OR_SWITCH, ERR = 0x00, 0xFE, 0xFF
HEADER_LENGTH = 4
CONNECT_TIMEOUT_S = 30
ERRORS_SHOWN = 5


class LoginError(Exception):
    pass


def read_exactly(sock, length):
    data = bytearray()
    while len(data) < length:
        chunk = sock.recv(length - len(data))
        if not chunk:
            raise LoginError("connection closed by the server")
        data += chunk
    return bytes(data)


def read_packet(sock):
    header = read_exactly(sock, HEADER_LENGTH)
    length = header[0] | header[1] << 8 | header[2] << 16
    return header[3], read_exactly(sock, length)


def write_packet(sock, sequence, payload):
    sock.sendall(struct.pack("<I", len(payload))[:3] + bytes([sequence & 0xFF]) + payload)


def native_scramble(password, seed):
    if not password:
        return b""
    stage1 = hashlib.sha1(password.encode()).digest()
    stage2 = hashlib.sha1(stage1).digest()
    mix = hashlib.sha1(seed[:SCRAMBLE_LENGTH] + stage2).digest()
    return bytes(a ^ b for a, b in zip(stage1, mix))


def parse_handshake(payload):
    if payload[0] == ERR:
        raise LoginError("server refused: " + payload[9:].decode(errors="replace"))
    end_of_version = payload.index(b"\0", 1)
    pos = end_of_version + 1 + 4  # connection id
    seed = payload[pos:pos + 8]
    pos += 8 + 1  # filler
    capabilities = struct.unpack_from("<H", payload, pos)[0]
    pos += 2 + 1 + 2  # character set, status flags
    capabilities |= struct.unpack_from("<H", payload, pos)[0] << 16
    pos += 2
    seed_length = payload[pos]
    pos += 1 + 10  # reserved
    rest = max(13, seed_length - 8)
    seed += payload[pos:pos + rest - 1]  # the last byte is a NUL terminator
    return capabilities, seed


def login(host, port, user, password):
    sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S)
    try:
        sequence, payload = read_packet(sock)
        server_capabilities, seed = parse_handshake(payload)
        capabilities = CLIENT_CAPABILITIES & (server_capabilities | CLIENT_LONG_PASSWORD)
        auth = native_scramble(password, seed)
        response = (struct.pack("<IIB23x", capabilities, MAX_PACKET, UTF8MB4_GENERAL_CI)
                    + user.encode() + b"\0" + bytes([len(auth)]) + auth + NATIVE_PLUGIN + b"\0")
        write_packet(sock, sequence + 1, response)
        sequence, payload = read_packet(sock)
        if payload[0] == EOF_OR_SWITCH:
            end = payload.index(b"\0", 1)
            plugin, switch_seed = payload[1:end], payload[end + 1:].rstrip(b"\0")
            if plugin != NATIVE_PLUGIN:
                raise LoginError("server asked for unsupported plugin " + plugin.decode(errors="replace"))
            write_packet(sock, sequence + 1, native_scramble(password, switch_seed))
            sequence, payload = read_packet(sock)
        if payload[0] == ERR:
            raise LoginError("login failed: " + payload[9:].decode(errors="replace"))
        if payload[0] != OK:
            raise LoginError(f"unexpected packet 0x{payload[0]:02x} after login")
        sock.settimeout(None)
        return sock
    except BaseException:
        sock.close()
        raise


def main(argv):
    if len(argv) != 6:
        raise SystemExit(__doc__)
    host, port, user, password, count = argv[1], int(argv[2]), argv[3], argv[4], int(argv[5])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    held, failed = [], 0
    started = time.monotonic()
    for _ in range(count):
        try:
            held.append(login(host, port, user, password))
        except (OSError, LoginError, ValueError, IndexError) as e:
            failed += 1
            if failed <= ERRORS_SHOWN:
                print(f"idle_clients: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
    print(f"connected {len(held)} {failed} {time.monotonic() - started:.1f}", flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main(sys.argv)
