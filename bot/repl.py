"""The chat loop, with reading and writing injected so tests can drive it through plain strings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from rich.text import Text

from bot.answer import Answer, Answerer, Turn
from bot.errors import NewsbotError
from bot.render import answer_text, sources_text

log = logging.getLogger(__name__)
PROMPT = "newsbot> "
MAX_TURNS = 4
HELP = """Ask anything about the indexed articles; answers cite their sources as [n].
Follow-ups ("and how many South Korean soldiers?") are read in the light of the last question.
  :sources   the full citations of the last answer
  :help      this text
  :quit      leave (Ctrl-D works too)"""

Reader = Callable[[str], str]
Writer = Callable[[Text | str], None]


class Repl:
    """Read a line, answer it, print the answer; `:` commands manage the session."""

    def __init__(self, answerer: Answerer, read: Reader, write: Writer, *,
                 echo: bool = False) -> None:
        self.answerer = answerer
        self.read = read
        self.write = write
        self.echo = echo  # repeat each question, so a piped transcript reads well
        self.history: list[Turn] = []
        self.last: Answer | None = None

    def run(self) -> int:
        """Loop until :quit or end of input; returns the exit code."""
        while True:
            try:
                line = self.read(PROMPT).strip()
            except EOFError:
                return 0
            except KeyboardInterrupt:
                self.write("")
                continue
            if not line:
                continue
            if line.startswith(":"):
                if self.command(line) == "quit":
                    return 0
                continue
            self.ask(line)

    def command(self, line: str) -> str | None:
        """Run a `:` command; returns "quit" to stop."""
        name = line[1:].strip().lower()
        if name in ("q", "quit", "exit"):
            return "quit"
        if name in ("s", "sources"):
            self.write(sources_text(self.last))
        elif name in ("h", "help", "?"):
            self.write(HELP)
        else:
            self.write(f"Unknown command {line!r}. Try :help.")
        return None

    def ask(self, question: str) -> None:
        """Answer one question and remember it for follow-ups."""
        if self.echo:
            self.write(Text(f"» {question}", style="dim"))
        try:
            answer = self.answerer.answer(question, self.history)
        except NewsbotError as exc:
            self.write(Text(str(exc), style="red"))
            return
        except Exception:  # one bad turn must not end the session
            log.exception("answering failed")
            self.write(Text("Sorry, something went wrong answering that; details are in the log.",
                            style="red"))
            return
        self.last = answer
        self.history = [*self.history, Turn(question=question, answer=answer.answer)][-MAX_TURNS:]
        self.write(answer_text(answer))
        self.write("")


def terminal_reader(history_file: Path | None) -> Reader:
    """input() with line editing and a persistent history, where readline exists."""
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input still works
        return input
    if history_file is not None:
        try:
            history_file.parent.mkdir(parents=True, exist_ok=True)
            if history_file.exists():
                readline.read_history_file(history_file)
        except OSError:
            history_file = None
    readline.set_history_length(1000)

    def _read(prompt: str) -> str:
        line = input(prompt)
        if history_file is not None:
            try:
                readline.write_history_file(history_file)
            except OSError:
                pass
        return line

    return _read


def stream_reader(stream) -> Reader:
    """Lines from a non-terminal stream (a pipe or file), EOFError at the end."""

    def _read(prompt: str) -> str:
        line = stream.readline()
        if not line:
            raise EOFError
        return line

    return _read
