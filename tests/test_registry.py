"Integration tests of the model registry: one suite, run against a local folder and against Azure Blob Storage (Azurite)."
import threading, uuid
from pathlib import Path
import numpy as np
import pytest

from chatbot.nlu.artifacts import write_artifact
from chatbot.nlu.registry import SLOTS, RegistryError, ModelVersion, LocalRegistry, BlobRegistry, open_registry

def fake_artifact(path, fill=0.0):
    "A tiny valid artifact whose content depends on `fill`."
    return write_artifact(path, {'a_emb': np.full((2, 2), fill)}, ['<pad>', '<unk>'], dict(app=dict(name='x', version='1')))

@pytest.fixture(params=['local', 'azure'])
def make_registry(request, tmp_path, monkeypatch):
    "A factory of handles on one fresh registry (several handles stand for several processes)."
    if request.param == 'local':
        return lambda: open_registry(str(tmp_path/'registry'))
    az = request.getfixturevalue('azurite')
    url = f'azure-blob://models-{uuid.uuid4().hex[:16]}/team/nlu'        # own container per test
    return lambda: open_registry(url, cache_dir=tmp_path/'cache', connection_string=az.connection_string)

@pytest.fixture
def reg(make_registry): return make_registry()

@pytest.fixture
def arts(tmp_path):
    "Three artifacts with different content."
    return [fake_artifact(tmp_path/f'art{i}', float(i)) for i in range(3)]

def corrupt(reg, app, version, name):
    "Overwrite one stored file of a version with other bytes, behind the registry's back."
    if isinstance(reg, LocalRegistry):
        (reg.root/app/'versions'/version/name).write_bytes(b'garbage')
    else:
        reg._container.get_blob_client(reg._key(app, 'versions', version, name)).upload_blob(b'garbage', overwrite=True)

def test_push_and_versions(reg, arts, tmp_path):
    assert reg.apps() == [] and reg.versions('shop') == []
    assert reg.push('shop', arts[0]) == '1'
    assert reg.push('shop', arts[0]) == '1' and reg.push('shop', arts[0], '1') == '1'       # idempotent
    assert reg.push('shop', arts[1]) == '2' and reg.push('shop', arts[2], 'v3.0-rc_1') == 'v3.0-rc_1'
    assert reg.push('shop', arts[0], 'again') == 'again'                                    # same content, explicit new name
    assert reg.push('cafe', arts[1]) == '1'
    vs = reg.versions('shop')
    assert [v.version for v in vs] == ['1', '2', 'v3.0-rc_1', 'again'] and reg.apps() == ['cafe', 'shop']
    assert all(isinstance(v, ModelVersion) and v.app == 'shop' and v.bytes > 1000 for v in vs)
    assert [v.created_at for v in vs] == sorted(v.created_at for v in vs)
    assert vs[1].manifest['files']['weights.h5']['sha256'] != vs[0].manifest['files']['weights.h5']['sha256']
    with pytest.raises(RegistryError, match='already exists with different content'): reg.push('shop', arts[1], '1')
    with pytest.raises(RegistryError, match='not a model artifact'): reg.push('shop', tmp_path)
    bad = fake_artifact(tmp_path/'bad', 7.0)
    (bad/'vocab.txt').write_text('changed\n')
    with pytest.raises(RegistryError, match='vocab.txt does not match its checksum'): reg.push('shop', bad)
    assert [v.version for v in reg.versions('shop')] == ['1', '2', 'v3.0-rc_1', 'again']

def test_incomplete_versions_are_invisible(reg, arts):
    reg.push('shop', arts[0])
    if isinstance(reg, LocalRegistry):                                   # a crashed push leaves a dot-folder; a stray folder
        (reg.root/'shop'/'versions'/'.7.tmpabc').mkdir(); (reg.root/'shop'/'versions'/'8').mkdir()
    else:                                                                # a crashed push leaves data blobs without manifest
        reg._container.get_blob_client(reg._key('shop', 'versions', '8', 'weights.h5')).upload_blob(b'partial')
    assert [v.version for v in reg.versions('shop')] == ['1']
    with pytest.raises(RegistryError, match="unknown version '8'"): reg.publish('shop', '8')
    assert reg.push('shop', arts[1], '8') == '8' and reg.fetch('shop', '8').exists()      # a later push completes it

def test_publish_swap_resolve_history(reg, arts):
    assert reg.slots('shop') == dict(staging=None, production=None, etag='') and reg.slot_state('shop') == ''
    assert reg.history('shop') == [] and reg.resolve('shop') is None
    for a in arts[:2]: reg.push('shop', a)
    s1 = reg.publish('shop', '1', 'staging', actor='ann')
    assert (s1['staging'], s1['production']) == ('1', None) and s1['etag'] == reg.slot_state('shop') != ''
    s2 = reg.publish('shop', '2', actor='bob')
    assert s2['production'] == '2' and s2['etag'] == reg.slot_state('shop') != s1['etag']
    s3 = reg.swap('shop', actor='cy')
    assert (s3['staging'], s3['production']) == ('2', '1') and reg.slots('shop') == s3 and reg.slot_state('shop') not in (s1['etag'], s2['etag'])
    assert reg.resolve('shop') == '1' and reg.resolve('shop', 'staging') == '2'
    h = reg.history('shop')
    assert [(e['actor'], e['action']) for e in h] == [('ann', 'publish'), ('bob', 'publish'), ('cy', 'swap')]
    assert h[0]['slot'] == 'staging' and h[0]['version'] == '1' and h[1]['previous'] is None and (h[2]['staging'], h[2]['production']) == ('2', '1')
    assert all(e['at'] < f['at'] for e, f in zip(h, h[1:]))
    reg.publish('shop', '2')                                              # default actor: user@host
    assert '@' in reg.history('shop')[-1]['actor'] and reg.history('shop')[-1]['previous'] == '1'
    reg.history_limit = 5
    for _ in range(4): reg.publish('shop', '1', 'staging')
    assert len(reg.history('shop')) == 5 and reg.slots('shop')['staging'] == '1'

def test_errors(reg, arts):
    reg.push('shop', arts[0])
    cases = [(lambda: reg.push('../etc', arts[0]), 'bad app name'), (lambda: reg.push('shop', arts[0], 'a/b'), 'bad version'),
             (lambda: reg.push('shop', arts[0], '.hidden'), 'bad version'), (lambda: reg.push('x' * 65, arts[0]), 'bad app name'),
             (lambda: reg.publish('shop', '9'), "unknown version '9' of app 'shop'; known versions: 1"),
             (lambda: reg.publish('nope', '1'), "unknown app 'nope'"), (lambda: reg.publish('shop', '1', 'prod'), "unknown slot 'prod'"),
             (lambda: reg.resolve('shop', 'dev'), 'unknown slot'), (lambda: reg.swap('shop'), 'staging slot is empty'),
             (lambda: reg.swap('nope'), "unknown app 'nope'"), (lambda: reg.fetch('shop', '2'), "unknown version '2'"),
             (lambda: reg.fetch('nope', '1'), "unknown app 'nope'"), (lambda: reg.versions('a b'), 'bad app name')]
    for call, msg in cases:
        with pytest.raises(RegistryError, match=msg): call()
    reg.publish('shop', '1')
    with pytest.raises(RegistryError, match='staging slot is empty'): reg.swap('shop')
    assert reg.slots('shop')['production'] == '1' and len(reg.history('shop')) == 1   # failed swap wrote nothing
    assert isinstance(RegistryError('x'), ValueError) and SLOTS == ('staging', 'production')

def test_fetch_cache_and_corruption(reg, arts, monkeypatch):
    for a in arts[:2]: reg.push('shop', a)
    p = reg.fetch('shop', '1')
    assert isinstance(p, Path) and (p/'weights.h5').read_bytes() == (arts[0]/'weights.h5').read_bytes()
    assert (p/'manifest.json').read_bytes() == (arts[0]/'manifest.json').read_bytes()
    if isinstance(reg, BlobRegistry):
        assert reg.cache_dir in p.parents
        def no_network(*a, **k): raise AssertionError('fetch went to the service for a cached version')
        with monkeypatch.context() as m:
            m.setattr(type(reg._container), 'get_blob_client', no_network)
            assert reg.fetch('shop', '1') == p                            # reused, no download
        (p/'vocab.txt').write_text('rotten\n')                            # a cached copy gone bad is fetched again
        assert reg.fetch('shop', '1') == p and (p/'vocab.txt').read_bytes() == (arts[0]/'vocab.txt').read_bytes()
    else:
        assert p == reg.root/'shop'/'versions'/'1' and reg.fetch('shop', '1') == p
    corrupt(reg, 'shop', '2', 'weights.h5')
    with pytest.raises(RegistryError, match=r"version '2' of app 'shop' .* corrupt: weights.h5 does not match its checksum"): reg.fetch('shop', '2')
    if isinstance(reg, BlobRegistry):
        assert not (reg.cache_dir/'shop'/'2').exists() and [q.name for q in (reg.cache_dir/'shop').iterdir()] == ['1']   # nothing half-made left

def test_concurrent_publishers(make_registry, arts):
    regs = [make_registry() for _ in range(2)]
    for a in arts[:2]: regs[0].push('shop', a)
    errors = []
    def work(k):
        try:
            for i in range(20): regs[k].publish('shop', str(1 + (i + k) % 2), SLOTS[i % 2], actor=f't{k}-{i}')
        except Exception as e: errors.append(e)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert not errors, errors
    h = regs[1].history('shop')
    assert len(h) == 40 and sorted(e['actor'] for e in h) == sorted(f't{k}-{i}' for k in range(2) for i in range(20))
    for k in range(2): assert [e['actor'] for e in h if e['actor'].startswith(f't{k}-')] == [f't{k}-{i}' for i in range(20)]   # in order
    last = {slot: [e['version'] for e in h if e['slot'] == slot][-1] for slot in SLOTS}
    s = regs[0].slots('shop')
    assert (s['staging'], s['production']) == (last['staging'], last['production']) and s['etag'] == regs[1].slot_state('shop')

def test_trained_model_round_trip(reg, mini_model):
    from chatbot.nlu.predict import Predictor
    trained, path = mini_model
    v = reg.push('mini', path)
    reg.publish('mini', v, 'staging'); reg.swap('mini')
    served = Predictor.load(reg.fetch('mini', reg.resolve('mini')))
    original = Predictor.load(path)
    for q in ['I want to buy sneakers', '운동화 주문할게요', 'where is the nearest store', '안녕하세요', 'qwerty']:
        a, b = served.predict(q), original.predict(q)
        assert a.top_intent == b.top_intent and a.intents == b.intents and a.entities == b.entities and a.model_version == b.model_version

def test_open_registry_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = open_registry('rel/reg')
    assert isinstance(r, LocalRegistry) and r.root == tmp_path/'rel'/'reg' and r.url == (tmp_path/'rel'/'reg').as_uri()
    assert open_registry(r.url).root == r.root and open_registry(tmp_path/'rel'/'reg').root == r.root
    with pytest.raises(RegistryError, match='unsupported registry URL'): open_registry('s3://bucket/models')
    with pytest.raises(RegistryError, match='AZURE_STORAGE_CONNECTION_STRING'): open_registry('azure-blob://models')
    with pytest.raises(RegistryError, match='bad blob container name'): open_registry('azure-blob://Bad_Name')

def test_blob_registry_options(azurite, tmp_path, monkeypatch, arts):
    from chatbot.nlu.registry import default_cache_dir
    container = f'opts-{uuid.uuid4().hex[:12]}'
    r = BlobRegistry(container, connection_string=azurite.connection_string)          # created on first use, no prefix
    assert r.url == f'azure-blob://{container}' and r.cache_dir.parent == default_cache_dir()
    r.push('shop', arts[0])
    other = BlobRegistry(container, 'elsewhere', connection_string=azurite.connection_string)   # prefixes are separate registries
    assert other.apps() == [] and r.apps() == ['shop'] and other.cache_dir != r.cache_dir
    assert BlobRegistry(container, connection_string=azurite.connection_string).fetch('shop', '1').parent.parent == r.cache_dir
