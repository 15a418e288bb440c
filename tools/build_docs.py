#!/usr/bin/env python3
"""Build the documentation site from the notebooks: nbdev's own page processing (what `nbdev-docs` runs before
Quarto: front matter, hidden cells, `show_doc` for every exported name, run in a fresh process per notebook), then
one HTML page per processed notebook with nbconvert, and an index.

Quarto, which `nbdev-docs` would render with, is not on any package registry this project can install from (PyPI's
`quarto-cli` downloads the binary from GitHub while it installs), so nbconvert renders the pages instead. The build
fails (exit status 1, naming the notebook) when a notebook cannot be processed or rendered, which is what CI checks.

    python tools/build_docs.py        # writes _docs/index.html and _docs/<folder>/<notebook>.html
"""
import json, shutil, sys, warnings
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT/'_docs'
CELL_KEYS = {'cell_type', 'metadata', 'source', 'outputs', 'execution_count', 'id', 'attachments'}

def title_of(nb: dict, fallback: str) -> tuple[str, str]:
    "The page's title and summary from its first markdown cell (`# Title` and `> summary`)."
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        lines = ''.join(c['source']).splitlines()
        title = next((l[2:].strip() for l in lines if l.startswith('# ')), fallback)
        summary = next((l[1:].strip() for l in lines if l.startswith('>')), '')
        return title, summary
    return fallback, ''

def main() -> int:
    from nbdev.serve import proc_nbs
    from nbconvert import HTMLExporter
    import nbformat
    warnings.simplefilter('ignore')
    cache = ROOT/'_proc'                                          # where proc_nbs writes the processed pages
    shutil.rmtree(cache, ignore_errors=True)
    for nb in sorted((ROOT/'nbs').rglob('[0-9]*.ipynb')):       # one at a time, so a failure names its notebook
        try: proc_nbs(str(ROOT/'nbs'), n_workers=0, file_glob=nb.name)
        except Exception as e:
            print(f'docs: {nb.relative_to(ROOT)} could not be processed: {type(e).__name__}: {e}', file=sys.stderr)
            return 1
    shutil.rmtree(OUT, ignore_errors=True)
    from traitlets.config import Config
    config = Config({'TagRemovePreprocessor': {'enabled': True, 'remove_input_tags': {'remove_input'}}})
    exporter, pages = HTMLExporter(template_name='lab', config=config), []
    for src in sorted(p for p in cache.rglob('*.ipynb') if not p.name.startswith(('_', '.'))):
        rel = src.relative_to(cache)
        try:
            raw = json.loads(src.read_text(encoding='utf-8'))
            raw['cells'] = [c for c in raw['cells'] if not (c['cell_type'] == 'raw' and ''.join(c['source'])
                                                               .startswith('---'))]      # Quarto's front matter
            for c in raw['cells']:                  # nbdev's processing marks cells with keys nbformat does not know
                for k in [k for k in c if k not in CELL_KEYS]: del c[k]
                c.get('metadata', {}).pop('execution', None)   # its timings, in a shape nbformat refuses
                if ''.join(c['source']).startswith('#| echo: false'):   # show_doc calls: the page shows their result
                    c['metadata']['tags'] = c['metadata'].get('tags', []) + ['remove_input']
            html, _ = exporter.from_notebook_node(nbformat.reads(json.dumps(raw), as_version=4))
        except Exception as e:
            print(f'docs: nbs/{rel} could not be rendered: {type(e).__name__}: {e}', file=sys.stderr)
            return 1
        dest = (OUT/rel).with_suffix('.html')
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(html, encoding='utf-8')
        pages.append((rel, *title_of(json.loads(src.read_text(encoding='utf-8')), rel.stem)))
    if not pages:
        print('docs: no notebooks found under nbs/', file=sys.stderr)
        return 1
    rows = ''.join(f'<li><a href="{escape(str(r.with_suffix(".html")))}">{escape(t)}</a> '
                   f'<small>({escape(str(r.parent)) if str(r.parent) != "." else "chatbot"})</small>'
                   f'{" - " + escape(s) if s else ""}</li>\n' for r, t, s in pages)
    OUT.mkdir(exist_ok=True)
    (OUT/'index.html').write_text(f'<!doctype html><meta charset="utf-8"><title>chatbot</title>'
                                  f'<h1>chatbot</h1><p>The package, notebook by notebook.</p><ul>\n{rows}</ul>\n',
                                  encoding='utf-8')
    print(f'docs: {len(pages)} pages in {OUT}')
    return 0

if __name__ == '__main__': sys.exit(main())
