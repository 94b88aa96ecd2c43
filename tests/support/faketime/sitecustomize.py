"""Started by every Python process a test run under ``--fake-now`` starts (on ``PYTHONPATH``):
the process's wall clock is moved by the same offset as the test run's (``tests/conftest.py``),
so a server process started by a test tells the same time as the test itself."""

import os

_offset = os.environ.get("MEMBERSHIP_BOT_TEST_TIME_OFFSET")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
