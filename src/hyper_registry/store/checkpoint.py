"""Checkpointing SQLite's write-ahead log in a background thread.

By default SQLite checkpoints inside a commit once the log passes 1,000 pages: the
committing thread then copies the log into the database file and syncs it, which a bulk
write pays on every batch (measured: one part in six of its time). The store's engines
turn that off (``wal_autocheckpoint=0``) and this thread checkpoints instead, shortly
after writes, on its own connection, while the writer goes on (SQLite runs a ``PASSIVE``
checkpoint beside readers and a writer). Durability does not change: a commit still
syncs the log (``synchronous=FULL``) before it returns, and a log not yet checkpointed is
replayed by whoever opens the database next.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

DELAY = 0.2
"""Seconds between a nudge and the checkpoint: writes in that window share one."""
IDLE = 5.0
"""Seconds between checkpoints when nothing nudges (writes made on other connections)."""


class Checkpointer:
    """One per SQLite store; started by the first write, stopped by :meth:`close`."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.checkpoints = 0

    def nudge(self) -> None:
        """Writes were committed: checkpoint soon."""
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stop:
                    self._thread = threading.Thread(
                        target=self._run, name="sqlite-checkpoint", daemon=True
                    )
                    self._thread.start()
        self._wake.set()

    def on_commit(self, _conn: object) -> None:
        """The engine's ``commit`` event."""
        self.nudge()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        try:
            while not self._stop:
                self._wake.wait(IDLE)
                if self._stop:
                    break
                # Let a burst of commits land first: a steady stream of commits (a
                # group commit every few milliseconds) then shares one checkpoint per
                # DELAY instead of syncing the database file after nearly every commit.
                if self._stopping.wait(DELAY):
                    break
                self._wake.clear()
                self._checkpoint(conn)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.checkpoints += 1
        except sqlite3.Error as exc:  # the file went away, the disk is full...: try later
            log.warning("SQLite checkpoint failed: %s", exc)

    def close(self) -> None:
        """Stop the thread after a last checkpoint (so a closed store leaves a short log)."""
        with self._lock:
            self._stop = True
            thread, self._thread = self._thread, None
        self._stopping.set()
        self._wake.set()
        if thread is not None:
            thread.join(timeout=30)
            try:
                conn = sqlite3.connect(self._path, isolation_level=None)
            except sqlite3.Error:
                return
            try:
                self._checkpoint(conn)
            finally:
                conn.close()
