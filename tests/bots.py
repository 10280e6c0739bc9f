"""A running `newsbot chat` process driven through its stdin, for tests of a long-lived bot."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time

from tests.conftest import ROOT


class ChatProcess:
    """`newsbot chat` in its own process; ask() sends a line and returns the answer's first line."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "chat", *args],
                                     env={**os.environ, **env}, cwd=ROOT, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def ask(self, question: str, timeout: float = 120) -> str:
        """The bot's answer to question: its lines up to the blank line before the sources
        (short answer, how fresh, the quote), joined by spaces."""
        self.proc.stdin.write(question + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        echoed, answer = False, []
        while True:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic())).strip()
            if echoed and line:
                answer.append(line)
            elif echoed and answer:
                return " ".join(answer)
            echoed = echoed or line.endswith(question)

    def close(self) -> str:
        """End the session; returns what it wrote on stderr."""
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        return self.proc.stderr.read()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

