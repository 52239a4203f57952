#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tests of fork/qmp-relay against a fake QMP server: fork/qmp_relay_test.py [--list | NAME].

Each test starts the relay on a scratch folder, plays QEMU on the folder's qmp.sock, writes
requests as the guest does and checks what QEMU is sent and what the guest reads back.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

RELAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "qmp-relay")


class FakeQemu:
    """A QMP server: records the commands, answers with `answer(cmd)`, can send events."""

    def __init__(self, path, answer):
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)
        self.answer = answer
        self.commands = []
        self.conn = None
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def send(self, msg):
        self.conn.sendall((json.dumps(msg) + "\n").encode())

    def serve(self):
        self.conn, _ = self.srv.accept()
        self.send({"QMP": {"version": {}, "capabilities": []}})
        buf = b""
        while True:
            try:
                data = self.conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, _, buf = buf.partition(b"\n")
                cmd = json.loads(line)
                self.commands.append(cmd)
                self.send(self.answer(cmd))

    def close(self):
        if self.conn:
            self.conn.shutdown(socket.SHUT_RDWR)
            self.conn.close()
        self.srv.close()


def ok(_cmd):
    return {"return": {}}


def request(d, line, timeout=10.0):
    """Writes a request as the guest does and returns the reply line."""
    reply = os.path.join(d, "reply")
    if os.path.exists(reply):
        os.unlink(reply)
    with open(os.path.join(d, "request.tmp"), "w") as f:
        f.write(line + "\n")
    os.rename(os.path.join(d, "request.tmp"), os.path.join(d, "request"))
    end = time.monotonic() + timeout
    while not os.path.exists(reply):
        if time.monotonic() > end:
            raise AssertionError(f"no reply to {line!r}")
        time.sleep(0.02)
    with open(reply) as f:
        return f.read().strip()


def with_relay(answer, body):
    with tempfile.TemporaryDirectory() as d:
        shared = os.path.join(d, "shared")
        os.mkdir(shared)
        sock = os.path.join(d, "qmp.sock")
        qemu = FakeQemu(sock, answer)
        relay = subprocess.Popen([sys.executable, RELAY, sock, shared])
        try:
            body(shared, qemu)
        finally:
            qemu.close()
            try:
                relay.wait(timeout=10)
            except subprocess.TimeoutExpired:
                relay.kill()
                raise AssertionError("the relay did not end when QEMU closed the socket")


def device_del_is_sent():
    def body(d, qemu):
        assert request(d, "device_del edu1") == "ok"
        assert qemu.commands[0] == {"execute": "qmp_capabilities"}, qemu.commands
        assert qemu.commands[1] == {"execute": "device_del", "arguments": {"id": "edu1"}}, qemu.commands
        assert not os.path.exists(os.path.join(d, "request"))
    with_relay(ok, body)


def device_add_options_become_arguments():
    def body(d, qemu):
        assert request(d, "device_add edu,id=edu2,bus=rp2") == "ok"
        assert qemu.commands[-1] == {"execute": "device_add",
                                     "arguments": {"driver": "edu", "id": "edu2", "bus": "rp2"}}
    with_relay(ok, body)


def qemu_errors_reach_the_guest():
    def answer(cmd):
        if cmd.get("arguments", {}).get("id") == "nope":
            return {"error": {"class": "DeviceNotFound", "desc": "Device 'nope' not found"}}
        return {"return": {}}

    def body(d, qemu):
        assert request(d, "device_del nope") == "error: Device 'nope' not found"
        # The relay goes on serving after an error.
        assert request(d, "device_del edu1") == "ok"
    with_relay(answer, body)


def bad_requests_are_refused_without_qemu():
    def body(d, qemu):
        for line in ("reboot", "device_del", "device_del a,b", "device_add edu,bus"):
            assert request(d, line).startswith("error: "), line
        assert qemu.commands == [{"execute": "qmp_capabilities"}], qemu.commands
    with_relay(ok, body)


def deleted_events_are_recorded():
    def body(d, qemu):
        assert request(d, "device_del edu1") == "ok"
        qemu.send({"event": "DEVICE_DELETED", "data": {"device": "edu1", "path": "/x"}})
        qemu.send({"event": "DEVICE_DELETED", "data": {"path": "/no-id"}})
        events = os.path.join(d, "events")
        end = time.monotonic() + 10
        while not (os.path.exists(events) and open(events).read()):
            assert time.monotonic() < end, "no event recorded"
            time.sleep(0.02)
        time.sleep(0.3)
        assert open(events).read() == "deleted edu1\n", open(events).read()
    with_relay(ok, body)


def host_file(d):
    """A file of the host's beside the guest's folder d, which the relay must never write."""
    victim = os.path.join(os.path.dirname(d), "host-file")
    with open(victim, "w") as f:
        f.write("host data\n")
    return victim


def guest_symlinks_are_not_followed():
    def body(d, qemu):
        victim = host_file(d)
        os.symlink(victim, os.path.join(d, "events"))
        os.symlink(victim, os.path.join(d, "reply.tmp"))
        assert request(d, "device_del edu1") == "ok"
        qemu.send({"event": "DEVICE_DELETED", "data": {"device": "edu1"}})
        time.sleep(0.5)
        assert open(victim).read() == "host data\n", "the relay wrote through a guest symlink"
    with_relay(ok, body)


def fake_screendump(cmd):
    """Plays QEMU's screendump: writes a small image to the file it is given."""
    if cmd.get("execute") == "screendump":
        a = cmd["arguments"]
        if a.get("device") == "nope":
            return {"error": {"class": "GenericError", "desc": "no such display"}}
        with open(a["filename"], "wb") as f:
            f.write(b"P6 1 1 255\n" + (b"\x89PNG" if a.get("format") == "png" else b"\x01\x02\x03"))
    return {"return": {}}


def screendump_is_copied_into_the_folder():
    def body(d, qemu):
        assert request(d, "screendump rbochs0 shot.ppm") == "ok"
        cmd = qemu.commands[-1]
        assert cmd["execute"] == "screendump" and cmd["arguments"]["device"] == "rbochs0", cmd
        # QEMU writes on the host's side, never straight into the guest's folder.
        assert not cmd["arguments"]["filename"].startswith(d), cmd
        assert "format" not in cmd["arguments"], cmd
        with open(os.path.join(d, "shot.ppm"), "rb") as f:
            assert f.read() == b"P6 1 1 255\n\x01\x02\x03"
        assert request(d, "screendump rbochs0 shot.png") == "ok"
        assert qemu.commands[-1]["arguments"]["format"] == "png", qemu.commands[-1]
        assert request(d, "screendump nope x.ppm") == "error: no such display"
    with_relay(fake_screendump, body)


def screendump_names_stay_in_the_folder():
    def body(d, qemu):
        victim = host_file(d)
        for line in ("screendump rbochs0 ../host-file", "screendump rbochs0 /tmp/x",
                     "screendump rbochs0", "screendump a,b x.ppm", "screendump rbochs0 .x"):
            assert request(d, line).startswith("error: "), line
        os.symlink(victim, os.path.join(d, "link.ppm"))
        assert request(d, "screendump rbochs0 link.ppm") == "ok"
        assert open(victim).read() == "host data\n", "the relay wrote through a guest symlink"
        assert not os.path.islink(os.path.join(d, "link.ppm"))
    with_relay(fake_screendump, body)


TESTS = [device_del_is_sent, device_add_options_become_arguments, qemu_errors_reach_the_guest,
         bad_requests_are_refused_without_qemu, deleted_events_are_recorded,
         guest_symlinks_are_not_followed, screendump_is_copied_into_the_folder,
         screendump_names_stay_in_the_folder]


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(t.__name__ for t in TESTS))
        return
    names = sys.argv[1:] or [t.__name__ for t in TESTS]
    failed = 0
    for name in names:
        t = next((t for t in TESTS if t.__name__ == name), None)
        if t is None:
            sys.exit(f"no test {name}")
        try:
            t()
            print(f"ok {name}")
        except AssertionError as e:
            print(f"not ok {name}: {e}")
            failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
