"""A fake upstream server: one loopback HTTP server that speaks many providers' public APIs.

Provider modules (tests/fakes/<provider>.py, listed in PROVIDER_MODULES) register handlers:

    from tests.fakes.core import route, FakeRequest, FakeResponse, state

    @route("POST", r"^/v1/images/generations$", name="openai.images")
    def images(req: FakeRequest) -> FakeResponse: ...

Before a handler runs, the core applies the faults that match its route name (exactly, or by
dotted prefix: "openai" matches "openai.images"): latency, errors with a status (and
Retry-After), timeouts (sleeping past the client's timeout) and malformed 200 bodies.
never_finish and fail_late concern asynchronous jobs: handlers see them through
state.create_job()/state.advance() (or state.faults_for(name)).

Control endpoints (used by the FakeUpstream client below, also handy with curl):
    POST /_fake/faults   {"route": "replicate", "status": 500, "count": 1, ...}
    POST /_fake/reset    clear faults, jobs, files, recorded requests and config
    POST /_fake/config   {"job_seconds": 0.2, "instant": false}
    GET  /_fake/requests ?route=openai  recorded requests, credentials redacted
    GET  /_fake/files/<id>  media stored with state.file_url()
"""
from __future__ import annotations

import email.parser
import email.policy
import importlib
import json
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx

# Provider modules imported when a server starts; each one appends itself here (one line).
PROVIDER_MODULES = [
    "tests.fakes.replicate", "tests.fakes.fal", "tests.fakes.gemini", "tests.fakes.veo", "tests.fakes.ark",
    "tests.fakes.openai", "tests.fakes.pollinations", "tests.fakes.elevenlabs", "tests.fakes.comfyui",
    "tests.fakes.a1111", "tests.fakes.xai",
]

# Headers that carry credentials: recorded only as "<scheme> ...<last 4>" so a test can check
# which key was sent without the log holding the key.
AUTH_HEADERS = {"authorization", "x-api-key", "xi-api-key", "x-goog-api-key", "api-key", "x-key"}

REQUEST_FAULTS = {"latency", "error_rate", "status", "timeout", "malformed"}  # act on the request itself
# stream_chunk_seconds: a pause between the chunks of a streamed answer (to drop a client midway).
DEFAULT_CONFIG = {"job_seconds": 1.0, "instant": False, "timeout_seconds": 5.0, "stream_chunk_seconds": 0.0}
FAULT_KEYS = {"route", "latency", "error_rate", "status", "retry_after", "timeout", "malformed", "never_finish",
              "fail_late", "count", "message", "code"}


# ---- request / response -------------------------------------------------------------------
class Headers(dict):
    """Case-insensitive header mapping (keys stored lower-case)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()):
        super().__init__((k.lower(), v) for k, v in items)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)

    def __contains__(self, key):
        return super().__contains__(str(key).lower())


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Headers
    body: bytes
    match: re.Match | None = None
    route_name: str = ""

    def json(self):
        """The body as JSON; a non-JSON body raises BadRequest (answered 400 by the core)."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise BadRequest("request body is not valid JSON") from None

    def multipart(self) -> tuple[dict, dict]:
        """(fields, files) of a multipart/form-data body; files maps name -> [(filename, bytes, type)]."""
        content_type = self.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            raise BadRequest("Expected a multipart/form-data body.")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + self.body)
        fields, files = {}, {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                files.setdefault(name, []).append((part.get_filename(), payload, part.get_content_type()))
            else:
                fields[name] = payload.decode()
        return fields, files

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def bearer(self) -> str:
        value = self.headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else ""


@dataclass
class FakeResponse:
    status: int = 200
    json: object = None
    body: bytes | None = None
    headers: dict = field(default_factory=dict)
    content_type: str | None = None
    stream: Iterator[bytes] | None = None  # chunks sent with Transfer-Encoding: chunked

    def encoded(self) -> tuple[bytes, str]:
        if self.body is not None:
            return self.body, self.content_type or "application/octet-stream"
        if self.json is not None:
            return json.dumps(self.json).encode(), self.content_type or "application/json"
        return b"", self.content_type or "text/plain"


class BadRequest(Exception):
    """Raised by handlers (or FakeRequest.json) to answer 400 with the provider's error shape."""


# ---- routes and error shapes ----------------------------------------------------------------
@dataclass
class Route:
    method: str
    pattern: re.Pattern
    name: str
    handler: Callable[[FakeRequest], FakeResponse]


ROUTES: list[Route] = []
ERROR_FORMATS: dict[str, Callable[[int, str, str], FakeResponse]] = {}


def route(method: str, pattern: str, *, name: str):
    def decorate(func):
        ROUTES[:] = [r for r in ROUTES if r.name != name]  # re-import replaces, never doubles
        ROUTES.append(Route(method.upper(), re.compile(pattern), name, func))
        return func

    return decorate


def error_format(prefix: str):
    """Register how a provider shapes its error bodies: func(status, message, code) -> FakeResponse.
    Injected faults and BadRequest use it, so adapters parse the same shape as in production."""

    def decorate(func):
        ERROR_FORMATS[prefix] = func
        return func

    return decorate


def _matches(prefix: str, name: str) -> bool:
    return not prefix or name == prefix or name.startswith(prefix + ".")


def error_response(route_name: str, status: int, message: str, code: str = "") -> FakeResponse:
    best = max((p for p in ERROR_FORMATS if _matches(p, route_name)), key=len, default=None)
    if best is not None:
        return ERROR_FORMATS[best](status, message, code)
    return FakeResponse(status=status, json={"error": {"message": message, "code": code or str(status)}})


# ---- shared state -------------------------------------------------------------------------
class State:
    """Everything the fake remembers; one per process, cleared by reset()."""

    def __init__(self):
        self.lock = threading.RLock()
        self.base_url = ""
        self._wake = threading.Event()
        self.reset()

    def reset(self):
        with self.lock:
            self.jobs: dict[str, dict] = {}
            self.files: dict[str, tuple[bytes, str]] = {}
            self.config: dict = dict(DEFAULT_CONFIG)
            self.faults: list[dict] = []
            self.requests: list[dict] = []
            self.streams_abandoned = 0  # streamed answers whose client closed the connection midway
            # Wake every handler sleeping in a timeout/latency fault so it cannot leak into the next test.
            self._wake.set()
            self._wake = threading.Event()

    @staticmethod
    def now() -> float:
        return time.time()

    def sleep(self, seconds: float):
        """Sleep that reset() interrupts."""
        self._wake.wait(seconds)

    @staticmethod
    def new_id(prefix: str = "") -> str:
        return prefix + uuid.uuid4().hex[:24]

    def file_url(self, data: bytes, mime: str, suffix: str = "") -> str:
        file_id = self.new_id() + suffix
        with self.lock:
            self.files[file_id] = (data, mime)
        return f"{self.base_url}/_fake/files/{file_id}"

    # faults
    def add_fault(self, spec: dict) -> dict:
        unknown = set(spec) - FAULT_KEYS
        if unknown:
            raise BadRequest(f"unknown fault keys: {sorted(unknown)}")
        fault = dict(spec)
        fault.setdefault("route", "")
        with self.lock:
            self.faults.append(fault)
        return fault

    def faults_for(self, name: str, *, consume: bool = False) -> dict:
        """The merged fault settings that apply to a route name (later faults win).
        With consume=True each matching fault's `count` goes down by one."""
        merged: dict = {}
        with self.lock:
            for fault in list(self.faults):
                if not _matches(fault["route"], name):
                    continue
                merged.update({k: v for k, v in fault.items() if k not in {"route", "count"}})
                # A never_finish/fail_late-only fault is counted in jobs (create_job), not requests.
                if consume and "count" in fault and set(fault) & REQUEST_FAULTS:
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
        return merged

    # asynchronous jobs
    def create_job(self, route_name: str, **data) -> dict:
        """Store a new async job. never_finish / fail_late faults active now stick to the job."""
        flags = {}
        with self.lock:
            for fault in list(self.faults):
                if _matches(fault["route"], route_name) and (fault.get("never_finish") or fault.get("fail_late")):
                    flags.update({k: True for k in ("never_finish", "fail_late") if fault.get(k)})
                    if "count" in fault:
                        fault["count"] -= 1
                        if fault["count"] <= 0:
                            self.faults.remove(fault)
            job = {"id": data.pop("id", None) or self.new_id(), "route": route_name, "created_at": self.now(),
                   "polls": 0, "canceled": False, "job_seconds": float(self.config["job_seconds"]),
                   "instant": bool(self.config["instant"]), **flags, **data}
            self.jobs[job["id"]] = job
        return job

    def advance(self, job: dict) -> str:
        """Count one poll and say where the job is: "pending", "succeeded", "failed" or "canceled".
        Sets job["progress"] (0..100). A job finishes job_seconds after creation, or on its
        first poll in instant mode; never_finish keeps it pending; fail_late makes it fail then."""
        with self.lock:
            job["polls"] += 1
            if job.get("canceled"):
                return "canceled"
            elapsed = self.now() - job["created_at"]
            done = job["instant"] or elapsed >= job["job_seconds"]
            if job.get("never_finish"):
                job["progress"] = min(99, int(100 * elapsed / max(job["job_seconds"], 0.001)))
                return "pending"
            if not done:
                job["progress"] = min(99, int(100 * elapsed / max(job["job_seconds"], 0.001)))
                return "pending"
            job["progress"] = 100
            return "failed" if job.get("fail_late") else "succeeded"

    def record(self, req: FakeRequest):
        headers, auth = {}, {}
        for key, value in req.headers.items():
            if key in AUTH_HEADERS:
                scheme, _, secret = value.partition(" ") if " " in value else ("", "", value)
                auth[key] = f"{scheme + ' ' if scheme else ''}...{secret[-4:]}"
            else:
                headers[key] = value
        try:
            body = json.loads(req.body) if req.body else None
        except ValueError:
            body = None
        entry = {"method": req.method, "path": req.path, "query": req.query, "headers": headers, "auth": auth,
                 "json": body, "body_size": len(req.body), "route": req.route_name, "at": self.now()}
        with self.lock:
            self.requests.append(entry)


state = State()


# ---- the HTTP server ------------------------------------------------------------------------
def _control(req: FakeRequest) -> FakeResponse | None:
    path = req.path
    if path.startswith("/_fake/files/") and req.method == "GET":
        item = state.files.get(path.rsplit("/", 1)[1])
        if item is None:
            return FakeResponse(status=404, json={"error": "no such file"})
        return FakeResponse(body=item[0], content_type=item[1])
    if path == "/_fake/faults" and req.method == "POST":
        body = req.json()
        faults = body if isinstance(body, list) else [body]
        return FakeResponse(json={"faults": [state.add_fault(f) for f in faults]})
    if path == "/_fake/faults" and req.method == "GET":
        return FakeResponse(json={"faults": state.faults})
    if path == "/_fake/reset" and req.method == "POST":
        state.reset()
        return FakeResponse(json={"ok": True})
    if path == "/_fake/config" and req.method == "POST":
        with state.lock:
            state.config.update(req.json() or {})
        return FakeResponse(json=state.config)
    if path == "/_fake/requests" and req.method == "GET":
        wanted = req.arg("route", "")
        with state.lock:
            found = [r for r in state.requests if _matches(wanted, r["route"])]
        return FakeResponse(json={"requests": found})
    if path == "/_fake/health":
        return FakeResponse(json={"ok": True, "routes": sorted(r.name for r in ROUTES)})
    return None


def _apply_faults(req: FakeRequest) -> FakeResponse | None:
    fault = state.faults_for(req.route_name, consume=True)
    if not fault:
        return None
    if fault.get("latency"):
        state.sleep(float(fault["latency"]))
    if fault.get("timeout"):
        state.sleep(float(state.config["timeout_seconds"]))
        return FakeResponse(status=504, json={"error": "fake timeout"})
    if "status" in fault or "error_rate" in fault:
        if random.random() < float(fault.get("error_rate", 1.0)):
            status = int(fault.get("status", 500))
            response = error_response(req.route_name, status, fault.get("message") or f"injected error {status}",
                                      fault.get("code", ""))
            if fault.get("retry_after") is not None:
                response.headers["Retry-After"] = str(fault["retry_after"])
            return response
    if fault.get("malformed"):
        return FakeResponse(body=b'{"id": "broken", "data": [', content_type="application/json")
    return None


def dispatch(req: FakeRequest) -> FakeResponse:
    if req.path.startswith("/_fake/"):
        try:
            control = _control(req)
        except BadRequest as exc:
            return FakeResponse(status=400, json={"error": str(exc)})
        if control is not None:
            return control
    allowed = []
    for candidate in ROUTES:
        match = candidate.pattern.search(req.path)
        if not match:
            continue
        if candidate.method != req.method:
            allowed.append(candidate.method)
            continue
        req.match, req.route_name = match, candidate.name
        state.record(req)
        try:
            return _apply_faults(req) or candidate.handler(req)
        except BadRequest as exc:
            return error_response(candidate.name, 400, str(exc), "invalid_request")
    if allowed:
        return FakeResponse(status=405, json={"error": f"method not allowed (use {', '.join(allowed)})"})
    return FakeResponse(status=404, json={"error": f"no fake route for {req.method} {req.path}"})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so adapters' pooled connections are exercised
    # Headers and body go out as separate writes; with Nagle on, the body waits for the client's
    # delayed ACK (40 ms on Linux) on every keep-alive request.
    disable_nagle_algorithm = True
    server_version = "AtelierFakeUpstream/1"

    def log_message(self, format, *args):  # quiet: tests read /_fake/requests instead
        return

    def _handle(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = FakeRequest(method=self.command, path=parts.path, query=parse_qs(parts.query, keep_blank_values=True),
                          headers=Headers(self.headers.items()), body=body)
        try:
            response = dispatch(req)
        except Exception as exc:  # a bug in a fake handler must show up as a 500, not a hung client
            response = FakeResponse(status=500, json={"error": f"fake handler crashed: {exc!r}"})
        try:
            self._send(response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout tests)
            if response.stream is not None:
                with state.lock:
                    state.streams_abandoned += 1

    def _send(self, response: FakeResponse):
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, str(value))
        if response.stream is not None:
            self.send_header("Content-Type", response.content_type or "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            pause = float(state.config.get("stream_chunk_seconds") or 0)
            for chunk in response.stream:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                    if pause:
                        state.sleep(pause)
            self.wfile.write(b"0\r\n\r\n")
            return
        data, content_type = response.encoded()
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # Clients that time out on purpose (fault tests) drop their connection mid-answer;
        # that is expected here, not worth a traceback in the test output.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def load_providers():
    for module in PROVIDER_MODULES:
        importlib.import_module(module)


# ---- clients: in-thread server or separate process ----------------------------------------------
class _Controls:
    """The test-side API, over HTTP, so it works the same for an in-thread and a spawned server."""

    url: str

    def _post(self, path: str, body) -> dict:
        response = httpx.post(self.url + path, json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def faults(self, route: str = "", **spec) -> dict:
        return self._post("/_fake/faults", {"route": route, **spec})

    def config(self, **values) -> dict:
        return self._post("/_fake/config", values)

    def reset(self) -> None:
        self._post("/_fake/reset", {})

    def requests(self, route: str = "") -> list[dict]:
        response = httpx.get(self.url + "/_fake/requests", params={"route": route}, timeout=10)
        response.raise_for_status()
        return response.json()["requests"]

    @property
    def host(self) -> str:
        """host:port, the form SAFE_FETCH_ALLOW_HOSTS takes."""
        return urlsplit(self.url).netloc


class FakeUpstream(_Controls):
    """The fake in a background thread of this process: `with FakeUpstream() as fake: fake.url`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, instant: bool = False):
        load_providers()
        self._server = _Server((host, port), _Handler)
        self.url = f"http://{host}:{self._server.server_address[1]}"
        state.base_url = self.url
        state.reset()
        state.config["instant"] = instant
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-upstream", daemon=True)

    def start(self) -> "FakeUpstream":
        self._thread.start()
        return self

    def stop(self):
        state.reset()  # wakes sleeping handlers
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class FakeUpstreamProcess(_Controls):
    """The fake as its own process (real-worker tests, benchmarks): python -m tests.fakes.server."""

    def __init__(self, port: int, *, instant: bool = False, cwd: str | None = None):
        self.url = f"http://127.0.0.1:{port}"
        args = [sys.executable, "-m", "tests.fakes.server", "--port", str(port)] + (["--instant"] if instant else [])
        self.process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"fake upstream exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                httpx.get(self.url + "/_fake/health", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"fake upstream did not listen on {self.url}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ---- helpers for provider modules -------------------------------------------------------------
def sse(events: Iterable[object], *, done: bool = True) -> Iterator[bytes]:
    """Server-sent events the OpenAI way: `data: <json>` blocks, then `data: [DONE]`."""
    for event in events:
        payload = event if isinstance(event, str) else json.dumps(event)
        yield f"data: {payload}\n\n".encode()
    if done:
        yield b"data: [DONE]\n\n"
