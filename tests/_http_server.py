"""A real HTTP server with Range support for the tests, on 127.0.0.1 (standard library only).

It serves files of one folder, counts requests and body bytes, and injects faults:
latency per request, 503 on every n-th request, truncated bodies (Content-Length promises
more than is sent), stalls (the request is read, no answer is sent), fixed statuses per
path (403, 404...), no Range support (200 with the whole file), and 206 answers without
a Content-Range header.

Examples
--------
>>> import tempfile, pathlib, urllib.request
>>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.bin").write_bytes(b"0123456789")
>>> with RangeServer(d) as srv:
...     req = urllib.request.Request(srv.url("a.bin"), headers={"Range": "bytes=2-4"})
...     body = urllib.request.urlopen(req).read()
...     body, srv.stats.requests, srv.stats.bytes
(b'234', 1, 3)
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Stats:
    requests: int = 0
    bytes: int = 0
    ranges: list[tuple[str, int, int]] = field(default_factory=list)  # (path, start, end exclusive)

    def reset(self) -> None:
        self.requests, self.bytes = 0, 0
        self.ranges.clear()


@dataclass
class Faults:
    latency: float = 0.0  # seconds before each answer
    fail_every: int = 0  # answer 503 to every n-th request (0: never)
    truncate_every: int = 0  # send half the body of every n-th request (0: never)
    stall: bool = False  # never answer
    status: dict[str, int] = field(default_factory=dict)  # path -> fixed status
    ignore_range: bool = False  # answer 200 with the whole file, whatever the Range header
    omit_content_range: bool = False  # answer 206 with the range but no Content-Range header


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        srv = self.server
        faults = srv.faults
        if self.path.startswith("/__"):  # control paths of a server in another process, not counted
            self._control(self.path[3:])
            return
        with srv.lock:
            srv.stats.requests += 1
            n = srv.stats.requests
        if faults.stall:
            srv.stalled.wait(60)
            self.close_connection = True
            return
        if faults.latency:
            time.sleep(faults.latency)
        rel = self.path.split("?", 1)[0].lstrip("/")
        if rel in faults.status:
            self._status_only(faults.status[rel])
            return
        if faults.fail_every and n % faults.fail_every == 0:
            self._status_only(503)
            return
        path = srv.root / rel
        if not path.is_file():
            self._status_only(404)
            return
        data, etag = srv.content(path)
        size = len(data)
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "")) if not faults.ignore_range else None
        if m:
            start = int(m.group(1))
            end = min(int(m.group(2)) + 1 if m.group(2) else size, size)
            if start >= size:
                self._status_only(416, {"Content-Range": f"bytes */{size}"})
                return
            body, status = data[start:end], 206
            headers = {} if faults.omit_content_range else {"Content-Range": f"bytes {start}-{end - 1}/{size}"}
        else:
            start, end, body, status, headers = 0, size, data, 200, {}
        promised = len(body)
        if faults.truncate_every and n % faults.truncate_every == 0:
            body = body[: len(body) // 2]
        self.send_response(status)
        self.send_header("Content-Length", str(promised))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if head:
            return
        with srv.lock:
            srv.stats.bytes += len(body)
            srv.stats.ranges.append((rel, start, start + len(body)))
        try:
            self.wfile.write(body)
            if len(body) < promised:
                self.wfile.flush()
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _control(self, what: str) -> None:
        srv = self.server
        with srv.lock:
            if what == "reset":
                srv.stats.reset()
            body = json.dumps({"requests": srv.stats.requests, "bytes": srv.stats.bytes}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _status_only(self, status: int, headers: dict[str, str] | None = None) -> None:
        body = f"status {status}".encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # GDAL opens dozens of connections at once
    root: Path
    stats: Stats
    faults: Faults
    lock: threading.Lock
    stalled: threading.Event
    files: dict[Path, tuple[int, bytes, str]]

    def content(self, path: Path) -> tuple[bytes, str]:
        """A file's bytes and ETag (kept in memory while its mtime and size are unchanged)."""
        st = os.stat(path)
        stamp = st.st_mtime_ns ^ st.st_size
        with self.lock:
            known = self.files.get(path)
        if known is None or known[0] != stamp:
            known = (stamp, path.read_bytes(), f'"{st.st_mtime_ns:x}-{st.st_size:x}"')
            with self.lock:
                self.files[path] = known
        return known[1], known[2]


class RangeServer:
    """Serve ``root`` on ``127.0.0.1`` (a free port) in a background thread."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.root = Path(root)
        self.httpd.stats = Stats()
        self.httpd.faults = Faults()
        self.httpd.lock = threading.Lock()
        self.httpd.stalled = threading.Event()
        self.httpd.files = {}
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def stats(self) -> Stats:
        return self.httpd.stats

    @property
    def faults(self) -> Faults:
        return self.httpd.faults

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def reset(self) -> None:
        """Clear the counters and the faults."""
        self.stats.reset()
        self.httpd.faults = Faults()

    def start(self) -> RangeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.stalled.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> RangeServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve a folder from its own process (benchmarks: no GIL shared with the client).

    Prints the port, then serves until killed. ``GET /__stats`` answers ``{"requests", "bytes"}``
    and ``GET /__reset`` zeroes them (neither is counted).
    """
    import argparse
    import sys

    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--latency", type=float, default=0.0)
    a = ap.parse_args(argv)
    srv = RangeServer(a.root)
    srv.faults.latency = a.latency
    print(srv.port, flush=True)
    sys.stdout.close()
    srv.httpd.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main()
