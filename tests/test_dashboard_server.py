"""`chatbot dashboard`: Voila over `dashboards/` with the tree at `/`, each dashboard at `/voila/render/NAME.ipynb`; refused off
loopback without a password; with a password, the dashboards ask for it."""
import subprocess, sys, urllib.error, urllib.request
import pytest
from conftest import ROOT, open_dashboard

def test_refuses_other_addresses_without_password(tmp_path):
    env = {k: v for k, v in __import__('os').environ.items() if k != 'CHATBOT_ADMIN_PASSWORD'}
    r = subprocess.run([sys.executable, '-m', 'chatbot.cli', 'dashboard', '--host', '0.0.0.0', '--port', '1'], env=env,
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2 and 'CHATBOT_ADMIN_PASSWORD' in r.stderr and 'Traceback' not in r.stderr

def test_tree_and_render(dashboards, page, tmp_path):
    base = dashboards(tmp_path/'home')
    assert urllib.request.urlopen(base + '/', timeout=10).status == 200
    open_dashboard(page, base, 'studio')

def test_password_is_required(dashboards, page, tmp_path):
    base = dashboards(tmp_path/'home', password='open-sesame')
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k): return None
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.build_opener(NoRedirect).open(base + '/voila/render/studio.ipynb', timeout=10)
    assert e.value.code == 302 and '/login' in e.value.headers['Location']
    page.goto(base + '/voila/render/studio.ipynb?token=open-sesame')
    open_dashboard(page, base, 'studio')        # the cookie set by the token keeps the session
