"""Remote training, run locally against Azurite: the training notebook reads a data snapshot from blob storage, and
`chatbot train --push azure-blob://... --publish-if-better` stores the version, with its run record, in a blob registry,
as a GPU job in Azure Machine Learning or Azure Batch does (deploy/training/)."""
import json, os, subprocess, sys
import pytest
from conftest import ROOT, mini_utterances

def chatbot(*args, env):
    return subprocess.run([sys.executable, '-m', 'chatbot.cli', *map(str, args)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2', **env}, cwd=ROOT)

def test_train_from_blob_snapshot_into_blob_registry(azurite, tmp_path, monkeypatch):
    from azure.storage.blob import BlobServiceClient
    from chatbot.nlu.registry import open_registry
    (tmp_path/'tmp').mkdir()     # the run's temporary files, to see what it leaves behind
    env = {'AZURE_STORAGE_CONNECTION_STRING': azurite.connection_string, 'CHATBOT_HOME': str(tmp_path/'home'),
           'TMPDIR': str(tmp_path/'tmp')}
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    data = service.create_container('training-data')
    utts = mini_utterances()
    lines = lambda us: ''.join(json.dumps(u.to_dict(), ensure_ascii=False) + '\n' for u in us)
    data.upload_blob('snapshots/mini-1/train.jsonl', lines(utts[::2] + utts[1::4]))
    data.upload_blob('snapshots/mini-1/test.jsonl', lines(utts[3::4]))

    r = chatbot('train', 'azure-blob://training-data/snapshots/mini-1/', '--app', 'mini', '--epochs', '3', '--quiet',
                '--out', tmp_path/'model', '--push', 'azure-blob://models', '--publish-if-better', env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'pushed mini version 1' in r.stdout and 'published to staging' in r.stdout
    registry = open_registry('azure-blob://models', cache_dir=tmp_path/'cache', connection_string=azurite.connection_string)
    assert registry.slots('mini')['staging'] == '1' and registry.slots('mini')['production'] is None
    version = registry.versions('mini')[0]
    assert {'run.ipynb', 'report.html', 'metrics.json'} <= set(version.manifest['files'])
    assert version.manifest['metrics']['data'].startswith('test (')            # scored on the snapshot's test split
    local = registry.fetch('mini', '1')                                          # checksums verified, record included
    nb = json.loads((local/'run.ipynb').read_text())
    assert any('azure-blob://training-data/snapshots/mini-1/' in ''.join(c['source']) for c in nb['cells'])   # the injected parameters
    assert not list((tmp_path/'tmp').glob('chatbot-data-*'))                  # the downloaded snapshot is gone

def test_missing_blob_is_one_clear_error(azurite, tmp_path):
    (tmp_path/'tmp').mkdir()
    env = {'AZURE_STORAGE_CONNECTION_STRING': azurite.connection_string, 'CHATBOT_HOME': str(tmp_path/'home'),
           'TMPDIR': str(tmp_path/'tmp')}
    r = chatbot('train', 'azure-blob://no-such-container/x.jsonl', '--out', tmp_path/'m', '--quiet', env=env)
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    assert "no blob 'x.jsonl'" in r.stderr or 'no-such-container' in r.stderr, r.stderr[-2000:]
    assert not (tmp_path/'m').exists()
    assert not list((tmp_path/'tmp').glob('chatbot-data-*'))
