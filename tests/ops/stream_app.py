"""A WSGI app that holds each response open like an SSE stream (test_streams.py): it sends one
event at once, then waits until the release file exists, then ends the stream."""
import os
import time

RELEASE = os.environ.get("STREAM_RELEASE_FILE", "/nonexistent")


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")])

    def events():
        yield b"data: open\n\n"
        deadline = time.monotonic() + 120
        while not os.path.exists(RELEASE) and time.monotonic() < deadline:
            time.sleep(0.05)
        yield b"data: [DONE]\n\n"

    return events()
