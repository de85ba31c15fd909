"""`briefing preview`: start the server, the builder and the watcher; stop them all on Ctrl-C."""

from __future__ import annotations

import errno
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..errors import LockHeld, UsageError
from .builder import Builder
from .options import PreviewOptions
from .server import handler as request_handler
from .watch import watch

log = logging.getLogger("briefing")


def _lock(preview_dir: Path):
    """One preview per reports folder: a second one is told, not left to fight over the folder."""
    import fcntl

    handle = open(preview_dir / ".preview.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise LockHeld(f"another briefing preview is running on {preview_dir}") from None
    return handle


def _interrupt(*_args) -> None:
    raise KeyboardInterrupt


STOP_DEADLINE = 10.0  # seconds a clean stop may take before the workers are ended and the process exits


def _force_stop(preview: Builder) -> None:
    """A clean stop still unfinished after STOP_DEADLINE (a thread stuck in I/O): end the workers, exit."""
    import faulthandler
    import sys

    log.warning("preview: a clean stop took over %g s; ending the workers and exiting", STOP_DEADLINE)
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)  # where the stop was stuck, for a report
    try:
        if preview.pool is not None:
            preview.pool.close()
    finally:
        print("Preview stopped.", flush=True)
        os._exit(0)


def run(options: PreviewOptions) -> int:
    """Serve and rebuild until Ctrl-C (or SIGTERM). Exit code 0 after a clean stop."""
    import signal

    from ..pipeline.build import BuildOptions, check_inputs

    check_inputs(BuildOptions(given=dict(options.given)))  # bad parameters: exit 2 before anything starts
    try:
        server = ThreadingHTTPServer((options.host, options.port), BaseHTTPRequestHandler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {options.port} on {options.host} is already in use; stop what uses it "
                             f"or choose another with --port") from None
        raise UsageError(f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}") from None
    preview = Builder(options)
    lock = _lock(preview.preview_dir)
    server.RequestHandlerClass = request_handler(preview.shown)
    server.daemon_threads = True
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    builder = threading.Thread(target=preview.run, name="preview-builder", daemon=True)
    builder.start()
    host = f"[{options.host}]" if ":" in options.host else options.host
    url = f"http://{host}:{server.server_address[1]}/briefing.html"
    print(f"Previewing the briefing at {url} (Ctrl-C stops)", flush=True)
    if options.open_browser:
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    # Ctrl-C and SIGTERM stop it, also when it was started with SIGINT ignored (a shell's background
    # job inherits that, and Python then leaves SIGINT ignored).
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        watch(preview.root, preview.reports_dir, preview.stopping, preview.requests)
    except KeyboardInterrupt:
        pass
    finally:
        import faulthandler

        watchdog = threading.Timer(STOP_DEADLINE, _force_stop, args=(preview,))
        watchdog.daemon = True
        watchdog.start()
        # Last resort, from a C thread that needs no lock and no GIL: if even the watchdog cannot end
        # the process, dump every thread's stack to the log and exit 1.
        faulthandler.dump_traceback_later(2 * STOP_DEADLINE, exit=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        preview.stop()
        server.shutdown()
        server.server_close()
        builder.join(timeout=5)
        if preview.pool is not None:
            preview.pool.close()
        lock.close()
        watchdog.cancel()
        faulthandler.cancel_dump_traceback_later()
    print("Preview stopped.", flush=True)
    return 0
