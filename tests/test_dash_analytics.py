"""The analytics dashboard in a browser: it shows the logged traffic as numbers and charts, and after new traffic and a
click on Refresh the numbers and the charts change."""
import re, time
from conftest import open_dashboard

def seed(home, n, seed, **kw):
    "Append `n` synthetic records from the last day to `home/logs.db`."
    from chatbot.admin.analytics import synthetic_records
    from chatbot.backends.logs import open_log_store
    with open_log_store('sqlite:///' + str(home/'logs.db')) as logs:
        logs.append(synthetic_records(n, seed=seed, days=1, **kw))

def number(locator) -> int:
    "The integer shown by a KPI widget ('1,234 requests' -> 1234)."
    return int(re.sub(r'\D', '', locator.inner_text().split('\n')[0]) or -1)

def wait_for(page, check, timeout_s=30, what='condition'):
    "Poll `check()` until it is true."
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f'timed out waiting for {what}: {page.inner_text("body")[-2000:]}'
        page.wait_for_timeout(200)

def test_charts_follow_new_traffic(dashboards, page, tmp_path):
    home = tmp_path/'home'
    home.mkdir()
    seed(home, 300, seed=1, apps=('demo',))
    base = dashboards(home)
    root = open_dashboard(page, base, 'analytics')
    status, total = root.locator('.analytics-status'), root.locator('.analytics-total')
    wait_for(page, lambda: 'Updated' in status.inner_text(), what='the first load')   # charts are drawn after the page shows
    assert number(total) == 300
    from test_dash_studio import assert_admin_words
    assert_admin_words(page, 'What people asked your bot and how it answered')
    assert not root.locator('.analytics-empty').is_visible()                # there is traffic: no "no messages yet" note
    timeline = root.locator('.analytics-chart-timeline img, img.analytics-chart-timeline').first
    before = {k: root.locator(f'.analytics-chart-{k} img, img.analytics-chart-{k}').first.get_attribute('src')
              for k in ('timeline', 'intents', 'latency', 'steps', 'errors')}
    assert all(before.values()), before
    assert root.locator('.analytics-unanswered table tr').count() > 1       # header and at least one unanswered query

    seed(home, 200, seed=2, apps=('shop',))
    root.locator('.analytics-refresh').click()
    wait_for(page, lambda: number(total) == 500, what='a total of 500 after Refresh')
    wait_for(page, lambda: timeline.get_attribute('src') != before['timeline'], what='a new timeline chart')

    root.locator('.analytics-app select').select_option('shop')             # filtering by app redraws with its records only
    wait_for(page, lambda: number(total) == 200, what='a total of 200 for app shop')
    wait_for(page, lambda: 'Updated' in status.inner_text(), what='the charts of app shop')
    assert not page.js_errors, page.js_errors
    assert not page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count()   # no warning on the page either
    assert 'Traceback' not in page.inner_text('body') and 'Could not load' not in page.inner_text('body')
