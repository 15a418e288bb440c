"Small helpers shared by the test modules."
import socket, time

def free_port() -> int:
    "A TCP port that was free on 127.0.0.1 a moment ago."
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def wait_for(fn, timeout=30, every=0.05, what='condition'):
    "Poll `fn()` until it returns something true, and return that; `AssertionError` after `timeout` seconds."
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (v := fn()): return v
        time.sleep(every)
    raise AssertionError(f'{what} not reached within {timeout} s (last: {fn()!r})')
