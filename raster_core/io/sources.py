"""Byte sources under the TIFF reader: a local file, HTTP(S), S3, or a caller's store.

Every source answers ``get_range(start, length)`` and ``get_ranges(starts, lengths)`` (the
shape of obspec's protocol) and knows its ``size``. The reader parses the TIFF header and
reads every tile/strip through one source object, so a file is never opened twice by name.

Remote sources merge the ranges of one read (:func:`raster_core.io.ranges.plan_requests`),
send the merged requests concurrently, retry connection errors, timeouts, 429 and 5xx with
exponential backoff and jitter (bounded in count and total time), check every body's length,
and raise typed errors: :class:`~raster_core.errors.RemoteNotFoundError` (404),
:class:`~raster_core.errors.RemoteAccessError` (401/403) or
:class:`~raster_core.errors.RasterReadError` naming the URL and the byte range (at once, without
retries, for an empty object). A server that ignores ``Range`` (HTTP 200 with the whole object)
is sent one request per open: the body is kept and every range is cut from it, within the byte
budget ``RASTER_CORE_MAX_BYTES`` (:mod:`raster_core.limits`). :func:`is_remote` is the one rule of
which paths are remote; a URL of another scheme (``gs://``...) is refused naming its scheme.

HTTP(S) uses urllib3 (a core dependency); S3 builds the object's HTTPS URL from the standard
AWS settings and signs requests with botocore's SigV4 (the ``s3`` extra), unless
``AWS_NO_SIGN_REQUEST=YES``. Tunables: :func:`configure` (or ``RASTER_CORE_*`` environment
variables, see :class:`RemoteOptions`).

Examples
--------
>>> import os, tempfile
>>> with tempfile.NamedTemporaryFile(delete=False) as f:
...     _ = f.write(b"0123456789")
>>> src = open_source(f.name)
>>> src.size, src.get_range(2, 3), src.get_ranges([0, 8], [2, 2])
(10, b'234', [b'01', b'89'])
>>> src.close(); os.unlink(f.name)
>>> is_remote("s3://bucket/key.tif"), is_remote("/data/x.tif")
(True, False)
"""

from __future__ import annotations

import builtins
import dataclasses
import os
import random
import re
import threading
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol, cast, runtime_checkable

from raster_core.errors import (
    InvalidParameterError,
    RasterReadError,
    RemoteAccessError,
    RemoteNotFoundError,
    UnsupportedSchemeError,
)
from raster_core.io.ranges import plan_requests, slice_ranges

__all__ = [
    "ByteSource",
    "LocalFileSource",
    "HTTPSource",
    "S3Source",
    "StoreSource",
    "RemoteOptions",
    "configure",
    "remote_options",
    "open_source",
    "read_object",
    "is_remote",
    "url_scheme",
]

REMOTE_SCHEMES = ("http", "https", "s3")


@runtime_checkable
class ByteSource(Protocol):
    """What the TIFF reader reads through (obspec-like ``get_range`` / ``get_ranges``)."""

    name: str
    size: int
    is_local: bool
    cache_key: str | None  # parsed headers of sources with a key are cached per process

    def get_range(self, start: int, length: int) -> bytes: ...

    def get_ranges(self, starts: Sequence[int], lengths: Sequence[int]) -> list[bytes]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RemoteOptions:
    """Tunables of remote reads (environment variable in brackets).

    Attributes
    ----------
    header_bytes : int
        First request of an open (``RASTER_CORE_HEADER_BYTES``, 64 KiB); doubled while the
        IFDs do not fit.
    merge_gap : int
        Ranges closer than this are fetched in one request (``RASTER_CORE_MERGE_GAP``, 256 KiB).
    max_request_bytes : int
        Cap of one request (``RASTER_CORE_MAX_REQUEST_BYTES``, 16 MiB).
    max_concurrency : int
        Requests in flight per read (``RASTER_CORE_MAX_CONCURRENCY``, 8).
    connect_timeout, read_timeout : float
        Seconds (``RASTER_CORE_CONNECT_TIMEOUT`` 10, ``RASTER_CORE_READ_TIMEOUT`` 30); the
        read timeout bounds every wait for bytes, so no read hangs.
    max_retries : int
        Retries of a request after a connection error, timeout, 429 or 5xx
        (``RASTER_CORE_MAX_RETRIES``, 5).
    retry_backoff : float
        First backoff in seconds, doubled per retry, with jitter (``RASTER_CORE_RETRY_BACKOFF``, 0.2).
    max_retry_time : float
        No retry starts after this many seconds of one request (``RASTER_CORE_MAX_RETRY_TIME``, 60).

    Examples
    --------
    >>> RemoteOptions().merge_gap
    262144
    """

    header_bytes: int = 64 * 1024
    merge_gap: int = 256 * 1024
    max_request_bytes: int = 16 * 1024 * 1024
    max_concurrency: int = 8
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_retries: int = 5
    retry_backoff: float = 0.2
    max_retry_time: float = 60.0


def _options_from_env() -> RemoteOptions:
    kw: dict[str, Any] = {}
    for f in dataclasses.fields(RemoteOptions):
        raw = os.environ.get(f"RASTER_CORE_{f.name.upper()}")
        if raw:
            try:
                kw[f.name] = int(raw) if f.type == "int" else float(raw)
            except ValueError:
                raise InvalidParameterError(f"RASTER_CORE_{f.name.upper()}={raw!r} is not a number") from None
    return RemoteOptions(**kw)


_options: RemoteOptions | None = None


def remote_options() -> RemoteOptions:
    """The tunables in effect (defaults, ``RASTER_CORE_*`` variables, then :func:`configure`)."""
    global _options
    if _options is None:
        _options = _options_from_env()
    return _options


def configure(**changes: Any) -> RemoteOptions:
    """Change tunables for the process (fields of :class:`RemoteOptions`); returns the old ones.

    Examples
    --------
    >>> old = configure(merge_gap=1 << 20)
    >>> remote_options().merge_gap
    1048576
    >>> _ = configure(**dataclasses.asdict(old))
    """
    global _options
    old = remote_options()
    for k, v in changes.items():
        if k not in {f.name for f in dataclasses.fields(RemoteOptions)}:
            raise InvalidParameterError(f"unknown remote option {k!r}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise InvalidParameterError(f"remote option {k} must be a non-negative number, got {v!r}")
    new = dataclasses.replace(old, **changes)
    if new.max_concurrency < 1 or new.max_request_bytes < 1 or new.header_bytes < 16:
        raise InvalidParameterError("max_concurrency, max_request_bytes and header_bytes must be positive")
    _options = new
    return old


_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+)://")  # two letters at least: "C://x" is a Windows path


def url_scheme(path: Any) -> str | None:
    """The lower-case scheme of a ``scheme://...`` string, else None (paths, ``C:\\x``, ids like ``a:b``).

    Examples
    --------
    >>> url_scheme("S3://bucket/key"), url_scheme("/data/x.tif"), url_scheme("landsat:scene"), url_scheme("C://x")
    ('s3', None, None, None)
    """
    if not isinstance(path, str):
        return None
    m = _URL.match(path)
    return m.group(1).lower() if m else None


def is_remote(path: Any) -> bool:
    """True for ``http://``, ``https://`` and ``s3://`` URLs; False for paths and ``file://`` URLs.

    The one definition used by the reader and the catalog.

    Raises
    ------
    UnsupportedSchemeError
        For a URL of another scheme (``gs://``, ``az://``...), naming it: read such objects
        through a store (``raster_core.io.open(path, store=...)``).

    Examples
    --------
    >>> is_remote("https://host/a.tif"), is_remote("file:///a.tif"), is_remote("a:b")
    (True, False, False)
    >>> is_remote("gs://bucket/a.tif")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    raster_core.errors.UnsupportedSchemeError: 'gs://bucket/a.tif': the URL scheme 'gs' is not supported ...
    """
    scheme = url_scheme(path)
    if scheme is None or scheme == "file":
        return False
    if scheme in REMOTE_SCHEMES:
        return True
    raise UnsupportedSchemeError(
        f"{path!r}: the URL scheme {scheme!r} is not supported (http, https, s3 and file are); read it "
        "through a store: raster_core.io.open(path, store=...) with an obstore store or an fsspec filesystem")


# ---------------------------------------------------------------------- pools (reset after fork)
_net_pool: ThreadPoolExecutor | None = None
_net_pool_size = 0
_net_lock = threading.Lock()
_http: Any = None
_LOCAL = threading.local()


def _mark_net_thread() -> None:
    _LOCAL.in_net_pool = True


def _net_executor(n: int) -> ThreadPoolExecutor:
    global _net_pool, _net_pool_size
    with _net_lock:
        if _net_pool is None or _net_pool_size < n:
            old = _net_pool
            _net_pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="raster_core_net",
                                           initializer=_mark_net_thread)
            _net_pool_size = n
            if old is not None:  # its threads finish the work already given to them, then exit
                old.shutdown(wait=False)
        return _net_pool


def _http_pool() -> Any:
    global _http
    with _net_lock:
        if _http is None:
            import urllib3

            _http = urllib3.PoolManager(num_pools=32, maxsize=32, block=False, retries=False)
        return _http


def _forget_after_fork() -> None:  # a forked child must not reuse the parent's threads and sockets
    global _net_pool, _net_pool_size, _http, _net_lock
    _net_pool, _net_pool_size, _http = None, 0, None
    _net_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


# ---------------------------------------------------------------------- local files
class LocalFileSource:
    """A local file read with ``os.pread`` on one private descriptor (thread-safe)."""

    is_local = True
    cache_key: str | None = None

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.name = os.fspath(path)
        self.fd: int | None = os.open(self.name, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            self.size = os.fstat(self.fd).st_size
        except OSError:
            self.close()
            raise

    def fileobj(self) -> BinaryIO:
        """A file object on the same descriptor (closing it keeps the descriptor open)."""
        return cast(BinaryIO, builtins.open(cast(int, self.fd), "rb", closefd=False))

    def get_range(self, start: int, length: int) -> bytes:
        fd = self.fd
        if fd is None:
            raise RasterReadError(f"{self.name!r}: dataset is closed")
        data = os.pread(fd, length, start)
        if len(data) != length:
            raise RasterReadError(f"{self.name!r}: truncated file (segment at {start} is incomplete)")
        return data

    def get_ranges(self, starts: Sequence[int], lengths: Sequence[int]) -> list[bytes]:
        return [self.get_range(s, n) for s, n in zip(starts, lengths, strict=True)]

    def close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


# ---------------------------------------------------------------------- remote: shared logic
class _RemoteBase:
    """Merging, concurrency and change detection shared by the remote sources."""

    is_local = False
    name: str
    size: int = -1
    etag: str | None = None
    cache_key: str | None = None

    def _fetch(self, start: int, end: int) -> bytes:  # pragma: no cover - abstract
        raise NotImplementedError

    def _note_identity(self, size: int | None, etag: str | None) -> None:
        """Record the object's size and ETag on first sight; afterwards they must not change."""
        if size is not None and size >= 0:
            if self.size < 0:
                self.size = size
            elif size != self.size:
                self._changed(f"its size changed from {self.size} to {size} bytes")
        if etag:
            if self.etag is None:
                self.etag = etag
            elif etag != self.etag:
                self._changed("its ETag changed")

    def _changed(self, why: str) -> None:
        on_change = getattr(self, "on_change", None)
        if on_change is not None:
            on_change()
        raise RasterReadError(f"{self.name!r} changed while it was open ({why}); open it again")

    prefix: bytes = b""  # the object's first bytes, kept from the header request

    def get_range(self, start: int, length: int) -> bytes:
        return self.get_ranges([start], [length])[0]

    def get_ranges(self, starts: Sequence[int], lengths: Sequence[int]) -> list[bytes]:
        """The bytes of every range; ranges inside :attr:`prefix` cost no request (a COG's
        smallest overviews usually follow its header)."""
        p = len(self.prefix)
        if not p:
            return self._get_ranges(starts, lengths)
        out: list[bytes | None] = [None] * len(starts)
        todo: list[int] = []
        for i, (s, n) in enumerate(zip(starts, lengths, strict=True)):
            if s + n <= p:
                out[i] = self.prefix[s : s + n]
            else:
                todo.append(i)
        if todo:
            got = self._get_ranges([starts[i] for i in todo], [lengths[i] for i in todo])
            for i, data in zip(todo, got, strict=True):
                out[i] = data
        return out  # type: ignore[return-value]

    def _get_ranges(self, starts: Sequence[int], lengths: Sequence[int]) -> list[bytes]:
        opts = remote_options()
        requests = plan_requests(starts, lengths, gap=opts.merge_gap, cap=opts.max_request_bytes)
        if len(requests) <= 1 or opts.max_concurrency <= 1 or getattr(_LOCAL, "in_net_pool", False):
            bodies = [self._fetch(s, e) for s, e in requests]
        else:
            pool = _net_executor(opts.max_concurrency)
            futures = [pool.submit(self._fetch, s, e) for s, e in requests]
            bodies = [f.result() for f in futures]
        return slice_ranges(starts, lengths, requests, bodies)

    def close(self) -> None:
        pass


def _hint_403(url: str) -> str:
    if url.startswith("s3://"):
        return ("check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE), or set "
                "AWS_NO_SIGN_REQUEST=YES for a public bucket, AWS_REQUEST_PAYER=requester for a requester-pays one")
    return "the server refuses access: is the URL signed or expired, or does it need credentials?"


# URLs that answered a ranged GET with the whole object (HTTP 200): a later open of one of them
# sends its first request alone, so its concurrent requests cannot each download the object
_WHOLE_OBJECT_URLS: OrderedDict[str, None] = OrderedDict()
_WHOLE_OBJECT_URLS_MAX = 1024


def _remember_whole_object_url(url: str) -> None:
    with _net_lock:
        _WHOLE_OBJECT_URLS[url] = None
        _WHOLE_OBJECT_URLS.move_to_end(url)
        while len(_WHOLE_OBJECT_URLS) > _WHOLE_OBJECT_URLS_MAX:
            _WHOLE_OBJECT_URLS.popitem(last=False)


class _HTTPFetcher(_RemoteBase):
    """GET with a Range header through urllib3, with retries, timeouts and length checks.

    A server that ignores ``Range`` answers 200 with the whole object: that body is kept for
    the rest of the open (every later range is cut from it), within the byte budget of
    :func:`raster_core.limits.default_max_bytes`.
    """

    def __init__(self, url: str) -> None:
        self.name = url
        self.cache_key = url
        self.size = -1
        self.etag = None
        self._whole: bytes | None = None  # the object, when the server ignores Range
        self._whole_lock = threading.Lock()

    def _http_url(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _headers(self, start: int, end: int) -> dict[str, str]:
        return {"Range": f"bytes={start}-{end - 1}"}

    def _follow(self, headers: Any) -> bool:
        """Adapt to an answer that names where to ask instead (S3: another region); True to ask again."""
        return False

    def _get_ranges(self, starts: Sequence[int], lengths: Sequence[int]) -> list[bytes]:
        if self._whole is None and self.name in _WHOLE_OBJECT_URLS and any(n > 0 for n in lengths):
            with self._whole_lock:  # one request first: the whole object again, or ranges after all
                if self._whole is None:
                    k = next(i for i, n in enumerate(lengths) if n > 0)
                    first = self._fetch(int(starts[k]), int(starts[k]) + int(lengths[k]))
                    if self._whole is None:  # the server honours Range now: keep that range, ask the rest
                        with _net_lock:
                            _WHOLE_OBJECT_URLS.pop(self.name, None)
                        rest = [i for i in range(len(starts)) if i != k]
                        got = super()._get_ranges([starts[i] for i in rest], [lengths[i] for i in rest])
                        out_ranges = dict(zip(rest, got, strict=True))
                        out_ranges[k] = first
                        return [out_ranges[i] for i in range(len(starts))]
        whole = self._whole
        if whole is None:
            return super()._get_ranges(starts, lengths)
        out = []
        for s, n in zip(starts, lengths, strict=True):
            if n > 0 and s >= len(whole):
                raise RasterReadError(f"{self.name!r} (bytes {s}-{s + n - 1}): past the end of the "
                                      f"object ({len(whole)} bytes)")
            out.append(whole[s : s + n])
        return out

    def _whole_body(self, resp: Any) -> bytes:
        """The body of a 200 answer to a ranged GET, refused over the byte budget before it is read."""
        from raster_core.limits import default_max_bytes

        limit = default_max_bytes()
        declared = resp.headers.get("Content-Length")
        n = int(declared) if declared and declared.strip().isdigit() else None
        body = b"" if n is not None and n > limit else resp.read(limit + 1)
        if (n is not None and n > limit) or len(body) > limit:
            size = f"{n} bytes" if n is not None else f"over {limit} bytes"
            raise RasterReadError(
                f"{self.name!r}: the server ignores Range requests (it answers with the whole object, {size}), "
                f"and the object is over the byte limit of {limit} (RASTER_CORE_MAX_BYTES)")
        return cast(bytes, body)

    def _empty(self) -> RasterReadError:
        return RasterReadError(f"{self.name!r} is an empty object (0 bytes), not a TIFF")

    def _fetch(self, start: int, end: int) -> bytes:
        import urllib3

        opts = remote_options()
        t0 = time.monotonic()
        attempt = 0
        where = f"{self.name!r} (bytes {start}-{end - 1})"
        while True:
            why = ""
            try:
                resp = _http_pool().request(
                    "GET", self._http_url(), headers=self._headers(start, end), preload_content=False,
                    retries=urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=5,
                                          raise_on_redirect=True, raise_on_status=False),
                    timeout=urllib3.Timeout(connect=opts.connect_timeout, read=opts.read_timeout),
                )
                reusable = True
                try:
                    status = resp.status
                    if status == 206:
                        body = resp.read()
                    elif status == 200:  # the server ignores Range: this is the whole object
                        reusable = False  # a refused body is left unread: the connection cannot be reused
                        body = self._whole_body(resp)
                        reusable = True
                    else:
                        body = b""
                        resp.drain_conn()
                finally:
                    if reusable:
                        resp.release_conn()
                    else:
                        resp.close()
                if status == 206:
                    content_range = resp.headers.get("Content-Range")
                    if not content_range:  # cannot tell which bytes these are, nor the object's size
                        raise RasterReadError(f"{where}: the server answered 206 without a Content-Range header")
                    self._note_identity(_content_range_total(content_range), resp.headers.get("ETag"))
                    want = end - start if self.size < 0 else max(0, min(end, self.size) - start)
                    if len(body) == want and want > 0:
                        return body
                    why = f"short body: {len(body)} of {want} bytes"
                elif status == 200:
                    if not body:
                        raise self._empty()
                    self._note_identity(len(body), resp.headers.get("ETag"))
                    if start >= len(body):
                        raise RasterReadError(f"{where}: past the end of the object ({len(body)} bytes)")
                    if self._whole is None:
                        self._whole = body
                        _remember_whole_object_url(self.name)
                    return body[start:end]
                elif status == 404:
                    raise RemoteNotFoundError(f"{self.name!r} does not exist (HTTP 404)")
                elif status in (401, 403):
                    hint = _hint_403(self.name)
                    raise RemoteAccessError(f"access to {self.name!r} is denied (HTTP {status}): {hint}")
                elif status == 416:
                    if start == 0:  # only an empty object has no byte 0
                        raise self._empty()
                    self._note_identity(_content_range_total(resp.headers.get("Content-Range")), None)
                    raise RasterReadError(f"{where}: the range is past the end of the object (HTTP 416)")
                elif status == 429 or status >= 500:
                    why = f"HTTP {status}"
                elif self._follow(resp.headers):
                    continue
                else:
                    raise RasterReadError(f"{where}: unexpected HTTP {status}")
            except RasterReadError:
                raise
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                why = f"{type(exc).__name__}: {exc}"
            attempt += 1
            elapsed = time.monotonic() - t0
            if attempt > opts.max_retries or elapsed >= opts.max_retry_time:
                raise RasterReadError(f"cannot read {where} after {attempt} attempts in {elapsed:.1f} s: {why}")
            delay = opts.retry_backoff * (2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
            time.sleep(max(0.0, min(delay, opts.max_retry_time - elapsed)))


def _content_range_total(value: str | None) -> int | None:
    if not value or "/" not in value:
        return None
    total = value.rsplit("/", 1)[1].strip()
    return int(total) if total.isdigit() else None


class HTTPSource(_HTTPFetcher):
    """An object behind an ``http(s)://`` URL (read with Range requests; see :class:`_HTTPFetcher`
    for servers that ignore them).

    The size and ETag come from the first response (the header request); every later
    response must agree, else the read fails (the object changed while open).
    """

    def _http_url(self) -> str:
        return self.name


class S3Source(_HTTPFetcher):
    """An ``s3://bucket/key`` object, over HTTPS with SigV4 signing (botocore).

    Configuration as the AWS CLI/SDKs read it: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
    ``AWS_SESSION_TOKEN``, ``AWS_PROFILE`` and the config files, ``AWS_REGION`` /
    ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` (path-style URLs,
    for MinIO or moto); ``AWS_NO_SIGN_REQUEST=YES`` for public buckets (no credentials, no
    botocore needed) and ``AWS_REQUEST_PAYER=requester`` for requester-pays buckets.
    """

    def __init__(self, url: str, *, requester_pays: bool | None = None) -> None:
        parts = urllib.parse.urlsplit(url)
        self.bucket, self.key = parts.netloc, parts.path.lstrip("/")
        if not self.bucket or not self.key:
            raise RasterReadError(f"{url!r} is not an s3://bucket/key URL")
        super().__init__(url)
        env = os.environ
        self.unsigned = env.get("AWS_NO_SIGN_REQUEST", "").strip().upper() in ("YES", "TRUE", "1")
        if requester_pays is None:
            requester_pays = env.get("AWS_REQUEST_PAYER", "").strip().lower() == "requester"
        self.requester_pays = requester_pays
        self._session: Any = None
        self._credentials: Any = None
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if not self.unsigned or not region:
            self._session = _botocore_session()
        if not region and self._session is not None:
            region = self._session.get_config_variable("region")
        self.region = region or "us-east-1"
        if not self.unsigned and self._session is not None:
            self._credentials = self._session.get_credentials()
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        self._endpoint = endpoint
        if endpoint:
            self.url = f"{endpoint.rstrip('/')}/{self.bucket}/{urllib.parse.quote(self.key, safe='/~')}"
        else:
            self.url = self._aws_url()

    def _http_url(self) -> str:
        return self.url

    def _follow(self, headers: Any) -> bool:
        # a bucket in another region answers 301/400 with its region: sign for it and ask there
        region = headers.get("x-amz-bucket-region")
        if not region or region == self.region or self._endpoint:
            return False
        self.region = region
        self.url = self._aws_url()
        return True

    def _aws_url(self) -> str:
        quoted = urllib.parse.quote(self.key, safe="/~")
        if "." in self.bucket:
            return f"https://s3.{self.region}.amazonaws.com/{self.bucket}/{quoted}"
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{quoted}"

    def _headers(self, start: int, end: int) -> dict[str, str]:
        headers = {"Range": f"bytes={start}-{end - 1}"}
        if self.requester_pays:
            headers["x-amz-request-payer"] = "requester"
        if self._credentials is None:
            return headers
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest

        req = AWSRequest(method="GET", url=self.url, headers=headers)
        S3SigV4Auth(self._credentials.get_frozen_credentials(), "s3", self.region).add_auth(req)
        return dict(req.headers.items())


def _botocore_session() -> Any:
    try:
        import botocore.session
    except ImportError:
        return None  # unsigned requests; a 403 says how to get signing
    return botocore.session.Session()


# ---------------------------------------------------------------------- a caller's store
class StoreSource(_RemoteBase):
    """An object in a caller's store: an obstore store or an fsspec filesystem (GCS, Azure...).

    Merging and concurrency are ours; retries and authentication are the store's.

    Examples
    --------
    >>> import fsspec
    >>> fs = fsspec.filesystem("memory")
    >>> fs.pipe("/demo/x.bin", b"abcdef")
    >>> src = StoreSource(fs, "/demo/x.bin")
    >>> src.size, src.get_ranges([0, 4], [2, 2])
    (6, [b'ab', b'ef'])
    """

    def __init__(self, store: Any, path: str) -> None:
        self.store, self.path = store, path
        self.name = f"{type(store).__name__}:{path}"
        self._obstore = type(store).__module__.startswith("obstore")
        try:
            if self._obstore:
                import obstore

                meta = obstore.head(store, path)
                self.size, self.etag = int(meta["size"]), meta.get("e_tag")
            else:
                info = store.info(path)
                self.size, self.etag = int(info["size"]), info.get("ETag") or info.get("etag")
        except Exception as exc:
            raise self._error(exc, "") from None

    def _error(self, exc: BaseException, where: str) -> RasterReadError:
        msg = f"{self.name!r}{where}: {type(exc).__name__}: {exc}"
        if isinstance(exc, FileNotFoundError) or "NotFound" in type(exc).__name__:
            return RemoteNotFoundError(f"{self.name!r} does not exist ({exc})")
        if isinstance(exc, PermissionError) or "PermissionDenied" in type(exc).__name__:
            return RemoteAccessError(f"access to {self.name!r} is denied ({exc})")
        return RasterReadError(msg)

    def _fetch(self, start: int, end: int) -> bytes:
        end = min(end, self.size)
        try:
            if self._obstore:
                import obstore

                data = bytes(obstore.get_range(self.store, self.path, start=start, end=end))
            else:
                data = bytes(self.store.cat_file(self.path, start=start, end=end))
        except Exception as exc:
            raise self._error(exc, f" (bytes {start}-{end - 1})") from None
        if len(data) != end - start:
            raise RasterReadError(f"{self.name!r} (bytes {start}-{end - 1}): short body of {len(data)} bytes")
        return data


# ---------------------------------------------------------------------- factory
def open_source(target: Any, *, store: Any = None) -> ByteSource:
    """The byte source of a path, ``file://``/``http(s)://``/``s3://`` URL, or a store + path.

    Raises
    ------
    RasterReadError
        For a local file that cannot be opened (the reader checks existence first).
    UnsupportedSchemeError
        For a URL of a scheme other than http, https, s3 and file.
    """
    if store is not None:
        return StoreSource(store, os.fspath(target))
    if isinstance(target, ByteSource) and not isinstance(target, (str, bytes)):
        return target
    path = os.fspath(target)
    scheme = url_scheme(path)
    if scheme in ("http", "https"):
        return HTTPSource(path)
    if scheme == "s3":
        return S3Source(path)
    if scheme == "file":
        path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
    elif scheme is not None:
        is_remote(path)  # raises UnsupportedSchemeError naming the scheme
    return LocalFileSource(path)


def read_object(url: str, *, first_request: int = 1 << 20) -> bytes:
    """The whole object at a remote URL (a STAC document...), with the sources' retries and errors."""
    source = open_source(url)
    try:
        data = source.get_range(0, first_request)
        if source.size > first_request:
            data += source.get_range(first_request, source.size - first_request)
        return data
    finally:
        source.close()


def local_path(target: str) -> str:
    """A ``file://`` URL's path; other strings unchanged."""
    if target[:7].lower() == "file://":
        return urllib.parse.unquote(urllib.parse.urlsplit(target).path)
    return target



