"""The packaged demo app is exactly what `tools/make_demo.py` generates, and it loads and validates."""
import importlib.util, json
from pathlib import Path
from chatbot.nlu.app import App
from chatbot.demo import demo_app, demo_path

ROOT = Path(__file__).resolve().parents[1]

def _make_demo():
    spec = importlib.util.spec_from_file_location('make_demo', ROOT / 'tools' / 'make_demo.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def test_packaged_json_is_up_to_date():
    mod = _make_demo()
    assert demo_path().read_text(encoding='utf-8') == mod.dumps(mod.build_app()), 'run: .venv/bin/python tools/make_demo.py'

def test_generator_is_deterministic():
    mod = _make_demo()
    assert mod.dumps(mod.build_app()) == mod.dumps(mod.build_app())

def test_demo_app_round_trips():
    app = demo_app()
    assert App.from_dict(json.loads(json.dumps(app.to_dict()))).to_dict() == app.to_dict()
    assert app.to_dict() == json.loads(demo_path().read_text(encoding='utf-8'))
