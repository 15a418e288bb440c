#!/usr/bin/env python3
"""Convert notebooks to and from a plain-text "percent" form, so they can be edited as text.

    python tools/nbtext.py to-nb  nbs/01_app.py   # writes nbs/nlu/10_nlu.app.ipynb
    python tools/nbtext.py to-text nbs/nlu/10_nlu.app.ipynb  # prints the percent form

Cells start with a line `# %%` (code) or `# %% [markdown]` (markdown, each line prefixed by `# `).
The .ipynb is the source of truth that gets committed; the text form is a scratch copy.
"""
import json, sys
from pathlib import Path

def text_to_cells(text):
    cells, kind, lines = [], None, []
    def flush():
        if kind is None: return
        while lines and not lines[-1].strip(): lines.pop()
        src = [l[2:] if l.startswith('# ') else ('' if l == '#' else l) for l in lines] if kind == 'markdown' else list(lines)
        cells.append((kind, '\n'.join(src)))
    for line in text.splitlines():
        if line.startswith('# %%'):
            flush()
            kind, lines = ('markdown' if '[markdown]' in line else 'code'), []
        elif kind is not None: lines.append(line)
    flush()
    return cells

def to_nb(path):
    path = Path(path)
    cells = []
    for kind, src in text_to_cells(path.read_text()):
        cell = {'cell_type': kind, 'metadata': {}, 'source': src.splitlines(keepends=True)}
        if kind == 'code': cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    nb = {'cells': cells, 'metadata': {'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}},
          'nbformat': 4, 'nbformat_minor': 5}
    for i, c in enumerate(nb['cells']): c['id'] = f'c{i:03d}'
    out = path.with_suffix('.ipynb')
    out.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    return out

def to_text(path):
    nb = json.loads(Path(path).read_text())
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            parts.append('# %% [markdown]\n' + '\n'.join(('# ' + l) if l else '#' for l in src.splitlines()))
        else: parts.append('# %%\n' + src)
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    cmd, *paths = sys.argv[1:]
    for p in paths:
        if cmd == 'to-nb': print(to_nb(p))
        elif cmd == 'to-text': sys.stdout.write(to_text(p))
        else: sys.exit(f'unknown command {cmd!r}: use to-nb or to-text')
