"Pieces the serving and gateway benchmarks share: ports, the machine line, and their sections of BENCHMARKS.md."
import json, os, platform, re, socket, sys
from pathlib import Path

def log(*a): print(*a, file=sys.stderr, flush=True)

def free_port() -> int:
    "A TCP port that was free on 127.0.0.1 a moment ago."
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def machine() -> str:
    "CPU, cores and Python, for the line under each table."
    cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('model name')), platform.processor())
    return f'{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}'

def write_section(path: Path, section: str, start: str, end: str):
    "Put `section` (delimited by the `start`/`end` markers) into the markdown file: replace the old one, or add it before the notes."
    text = path.read_text(encoding='utf-8') if path.exists() else '# Benchmarks\n'
    if start in text: text = re.sub(re.escape(start) + '.*?' + re.escape(end), lambda m: section, text, flags=re.S)
    elif '## Notes' in text: text = text.replace('## Notes', section + '\n\n## Notes', 1)
    else: text += '\n' + section + '\n'
    path.write_text(text, encoding='utf-8')

def save_results(r: dict, name: str, section: str | None, write: str | None, start: str, end: str):
    "Keep `r` as bench/out/NAME.json, print it, and put `section` into the markdown file `write` (if given)."
    out = Path(__file__).resolve().parent/'out'/f'{name}.json'
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(r, indent=1))
    print(json.dumps(r, indent=1))
    if write: write_section(Path(write), section, start, end)
