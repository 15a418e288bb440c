"Integration checks on the installed package and its notebook export."
import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def notebook_modules() -> dict:
    "Module name (`chatbot.nlu.app`) -> `(number, notebook)` for every numbered notebook, in any folder of `nbs/`."
    out = {}
    for nb in sorted((ROOT/'nbs').rglob('[0-9][0-9]_*.ipynb')):
        cells = json.loads(nb.read_text())['cells']
        mods = [l.split()[-1] for c in cells for l in ''.join(c['source']).splitlines() if l.startswith('#| default_exp')]
        assert mods, f'{nb.name} has no default_exp'
        out['chatbot.' + mods[0]] = (int(nb.name[:2]), nb.relative_to(ROOT))
    return out

def test_every_notebook_exports_a_module_in_its_folder():
    "Each numbered notebook names a default_exp whose module exists, and sits in the folder of its subpackage."
    for mod, (_, nb) in notebook_modules().items():
        parts = mod.split('.')[1:]
        assert (ROOT/'chatbot'/Path(*parts).with_suffix('.py')).exists(), f'{nb}: {mod} missing'
        assert nb.parent == Path('nbs', *parts[:-1]), f'{nb} exports {mod}: it belongs in nbs/{"/".join(parts[:-1])}'
        assert nb.stem.split('_', 1)[1] == '.'.join(parts), f'{nb}: name it NN_{".".join(parts)}.ipynb'

def imports_of(path: Path, module: str) -> set:
    "The `chatbot` modules that the source at `path` imports, at the top or inside functions."
    import ast
    pkg = module.split('.')[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = ('.'.join(pkg[:len(pkg) - node.level + 1] + [node.module or ''][:1 if node.module else 0])
                    if node.level else node.module or '')
            found |= {base} | {f'{base}.{a.name}' for a in node.names}
        elif isinstance(node, ast.Import): found |= {a.name for a in node.names}
    return {m for m in found if m.startswith('chatbot.')}

def test_no_import_loops_and_notebooks_in_dependency_order():
    "A module imports only modules of lower-numbered notebooks (so no loop is possible), lazily or not."
    mods = notebook_modules()
    late = []
    for mod, (num, nb) in mods.items():
        path = ROOT/Path(*mod.split('.')).with_suffix('.py')
        for dep in imports_of(path, mod) & set(mods):
            if dep != mod and mods[dep][0] >= num: late.append(f'{mod} ({nb.name}) imports {dep} ({mods[dep][1].name})')
    assert not late, 'imports against the notebook order:\n' + '\n'.join(late)

def test_app_json_round_trip(tmp_path):
    from chatbot.nlu.app import App, Entity, Utterance, EntitySpan
    app = App('shop', culture='ko-kr', intents=['Order'], entities=[Entity('store', 'list', values=[{'canonical': '강남점', 'synonyms': ['강남']}]), Entity('product')],
              utterances=[Utterance('강남점에서 구두 살래요', 'Order', [EntitySpan('product', 6, 8, '구두')])])
    f = tmp_path/'app.json'
    f.write_text(json.dumps(app.to_dict(), ensure_ascii=False))
    assert App.from_dict(json.loads(f.read_text())).validate() == app

def test_bundled_files_are_found_where_the_package_looks():
    "The training notebook and the dashboards are found from the modules that use them, whatever the working folder."
    import os
    from chatbot.admin.runs import template_path
    from chatbot.admin.core import dashboards_dir
    here = os.getcwd()
    try:
        os.chdir('/')
        assert template_path().exists(), template_path()
        assert dashboards_dir() == ROOT/'dashboards'
    finally: os.chdir(here)
