"Integration checks on the installed package and its notebook export."
import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_every_notebook_exports_a_module():
    "Each numbered notebook names a default_exp whose module exists in the package."
    for nb in sorted((ROOT/'nbs').glob('[0-9][0-9]_*.ipynb')):
        cells = json.loads(nb.read_text())['cells']
        mods = [l.split()[-1] for c in cells for l in ''.join(c['source']).splitlines() if l.startswith('#| default_exp')]
        assert mods, f'{nb.name} has no default_exp'
        assert (ROOT/'chatbot'/(mods[0].replace('.', '/') + '.py')).exists(), f'{nb.name}: chatbot/{mods[0]}.py missing'

def test_app_json_round_trip(tmp_path):
    from chatbot.app import App, Entity, Utterance, EntitySpan
    app = App('shop', culture='ko-kr', intents=['Order'], entities=[Entity('store', 'list', values=[{'canonical': '강남점', 'synonyms': ['강남']}]), Entity('product')],
              utterances=[Utterance('강남점에서 구두 살래요', 'Order', [EntitySpan('product', 6, 8, '구두')])])
    f = tmp_path/'app.json'
    f.write_text(json.dumps(app.to_dict(), ensure_ascii=False))
    assert App.from_dict(json.loads(f.read_text())).validate() == app
