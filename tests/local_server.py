"""A pytest-httpserver that stops at once: the identity providers and key servers of the tests."""

from __future__ import annotations

from pytest_httpserver import HTTPServer


class LocalServer(HTTPServer):
    """`HTTPServer` on 127.0.0.1 whose serving thread polls for shutdown every 20 ms.

    werkzeug's default poll interval made every `stop()` wait up to half a second, about 15 s of the
    suite spent sleeping. `thread_target` is the documented place to tailor the serving loop.
    """

    def __init__(self, port: int = 0, threaded: bool = False) -> None:
        super().__init__(host="127.0.0.1", port=port, threaded=threaded)

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.02)
