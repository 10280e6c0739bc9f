"""The chat loop, with reading and writing injected so tests can drive it through plain strings."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.text import Text

from bot.answering.answer import Answer, Answerer, Turn, clean_input
from bot.answering.dates import Filters, parse_date
from bot.errors import NewsbotError
from bot.surfaces.plain import is_chatter
from bot.surfaces.render import answer_text, preview_note, sources_text

log = logging.getLogger(__name__)
PROMPT = "newsbot> "
MAX_TURNS = 4
# A piped question is echoed up to this long: a 100,000-character line is not worth repeating.
ECHO_CHARS = 300
HELP = """Ask anything about the indexed articles; answers cite their sources as [n].
Follow-ups ("and how many South Korean soldiers?") are read in the light of the last question.
  :sources   the full citations of the last answer
  :since DATE, :until DATE   only articles dated from / up to DATE (YYYY-MM-DD); alone: clear
  :source NAME   only outlets whose name contains NAME; alone: clear
  :clear     drop every filter
  :help      this text
  :quit      leave (Ctrl-D works too)"""

Reader = Callable[[str], str]
Writer = Callable[[Text | str], None]


class Preview(Protocol):
    """Where a generated answer's tokens go while it is written, before it is checked."""

    def write(self, piece: str) -> None:
        """Show one more piece of the answer."""

    def end(self) -> None:
        """The answer is complete; the checked version follows."""


class Repl:
    """Read a line, answer it, print the answer; `:` commands manage the session."""

    def __init__(self, answerer: Answerer, read: Reader, write: Writer, *,
                 echo: bool = False, preview: Preview | None = None) -> None:
        self.answerer = answerer
        self.read = read
        self.write = write
        self.echo = echo  # repeat each question, so a piped transcript reads well
        self.preview = preview  # shows a generated answer's tokens as they arrive
        self.history: list[Turn] = []
        self.last: Answer | None = None
        self.filters = Filters()  # :since, :until, :source; shown in the prompt while set

    def run(self) -> int:
        """Loop until :quit or end of input; returns the exit code."""
        while True:
            try:
                line = clean_input(self.read(self.prompt())).strip()  # NULs alone are no question
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
        name, _, value = line[1:].strip().partition(" ")
        name = name.lower()
        if name in ("q", "quit", "exit"):
            return "quit"
        if name in ("since", "until", "source", "clear"):
            self.set_filter(name, value.strip())
        elif name in ("s", "sources"):
            self.write(sources_text(self.last))
        elif name in ("h", "help", "?"):
            self.write(Text(HELP))  # "[n]" is not markup
        else:
            self.write(Text(f"Unknown command {line!r}. Try :help."))  # "[/x]" is not markup
        return None

    def prompt(self) -> str:
        """PROMPT, with the filters in force: 'newsbot [since 2025-11-01, source reuters]> '."""
        echo = ", ".join(f"{k} {v}" for k, v in self.filters.echo().items())
        return f"newsbot [{echo}]> " if echo else PROMPT

    def set_filter(self, name: str, value: str) -> None:
        """`:since DATE`, `:until DATE`, `:source NAME` (no value: clear it), `:clear`."""
        if name == "clear":
            self.filters = Filters()
            self.write(Text("Filters cleared.", style="dim"))
            return
        try:
            parsed = parse_date(value, name) if value and name != "source" else value or None
        except NewsbotError as exc:
            self.write(Text(str(exc), style="red"))
            return
        changed = self.filters.model_copy(update={name: parsed})
        if changed.problem():  # kept as it was: every answer would abstain
            self.write(Text(f"{changed.problem()}; :{name} not changed.", style="red"))
            return
        self.filters = changed
        self.write(Text(f"{name}: {parsed}" if parsed else f"{name} cleared.", style="dim"))

    def ask(self, question: str) -> None:
        """Answer one question and remember it for follow-ups ("thanks" and "ok" ask nothing)."""
        question = clean_input(question)
        if self.echo:
            shown = question if len(question) <= ECHO_CHARS else question[:ECHO_CHARS] + "…"
            self.write(Text(f"» {shown}", style="dim"))
        if is_chatter(question):
            self.write(Text("(nothing to look up: ask about the indexed articles)", style="dim"))
            return
        streamed: list[str] = []
        try:
            answer = self.answerer.answer(question, self.history,
                                          on_token=self._token_sink(streamed),
                                          **self.filters.as_kwargs())
        except NewsbotError as exc:
            self.write(Text(str(exc), style="red"))
            return
        except Exception:  # one bad turn must not end the session
            log.exception("answering failed")
            self.write(Text("Sorry, something went wrong answering that; details are in the log.",
                            style="red"))
            return
        finally:
            if streamed:
                self.preview.end()
        self.last = answer
        self.history = [*self.history, Turn(question=question, answer=answer.answer)][-MAX_TURNS:]
        if streamed:
            self.write(preview_note(answer))
        self.write(answer_text(answer))
        self.write("")

    def _token_sink(self, streamed: list[str]) -> Callable[[str], None] | None:
        if self.preview is None:
            return None

        def _on_token(piece: str) -> None:
            streamed.append(piece)
            self.preview.write(piece)

        return _on_token


class ConsolePreview:
    """Tokens on the console, in a live area that a terminal erases once the answer is checked.
    Where nothing can be erased (a pipe, a log file) it shows nothing: unchecked text must not
    stay in what is kept of a session."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.text = ""
        self.live = None

    def write(self, piece: str) -> None:
        """Show one more piece of the answer."""
        if not self.console.is_terminal:
            return
        from rich.live import Live

        self.text += piece
        if self.live is None:
            self.live = Live(console=self.console, transient=True, auto_refresh=False)
            self.live.start()
        self.live.update(Text(self.text, style="dim"), refresh=True)

    def end(self) -> None:
        """Erase the live preview."""
        if self.live is not None:
            self.live.stop()
        self.live, self.text = None, ""


def terminal_reader(history_file: Path | None) -> Reader:
    """input() with line editing and a persistent history, where readline exists."""
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input still works
        return input
    if history_file is not None:
        try:
            history_file.parent.mkdir(parents=True, exist_ok=True)
            make_private(history_file)
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


def make_private(path: Path) -> None:
    """Create path, or tighten it, so only its owner may read it: it holds the user's questions.

    GNU readline writes history files 0600 itself; libedit (macOS) and older files do not.
    """
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)


def stream_reader(stream) -> Reader:
    """Lines from a non-terminal stream (a pipe or file), EOFError at the end."""

    def _read(prompt: str) -> str:
        line = stream.readline()
        if not line:
            raise EOFError
        return line

    return _read
