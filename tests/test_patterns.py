"LUIS patterns and pattern.any at prediction on a hand-made Weather app (issue 16): trained briefly, saved, loaded, answered."
import pytest

from chatbot.nlu.app import App, Entity, EntitySpan, Pattern, Utterance


def weather_app() -> App:
    "Weather and alarms, a few examples each, with patterns written the way LUIS authors write them."
    u = lambda t, i, *spans: Utterance(t, i, [EntitySpan(e, t.index(v), t.index(v) + len(v), v) for e, v in spans])
    utts = [u("what's the weather like", 'GetWeather'), u('is it sunny outside', 'GetWeather'),
            u('how cold is it today', 'GetWeather'), u('do i need an umbrella', 'GetWeather'),
            u('weather report please', 'GetWeather'), u('how hot will it get this afternoon', 'GetWeather'),
            u('wake me up at 7', 'SetAlarm'), u('set an alarm for 6 am', 'SetAlarm'),
            u('alarm at 5 please', 'SetAlarm'), u('i need to get up at 8 tomorrow', 'SetAlarm'),
            u('remind me to wake at 9', 'SetAlarm'), u('new alarm 10 30', 'SetAlarm'),
            u('tell me a joke', 'None'), u('who are you', 'None'), u('thanks', 'None')]
    ents = [Entity('city', 'list', values=[{'canonical': 'Seoul', 'synonyms': ['서울']},
                                           {'canonical': 'Paris', 'synonyms': []}], roles=['destination']),
            Entity('Place', 'pattern.any', roles=['destination']), Entity('number', 'prebuilt', prebuilt='number')]
    pats = [Pattern('GetWeather', "what's the weather (in|at|for) {city} [today]"),
            Pattern('GetWeather', 'will it (rain|snow) in {Place} [tomorrow|today]'),
            Pattern('GetWeather', 'forecast for my trip to {Place:destination}'),
            Pattern('SetAlarm', "[please] set an alarm for {number} [o'clock]"),
            Pattern('SetAlarm', 'wake me (up|) when we reach {city:destination}')]
    return App('weather', intents=['None', 'GetWeather', 'SetAlarm'], entities=ents, utterances=utts, patterns=pats).validate()


@pytest.fixture(scope='module')
def weather(tmp_path_factory):
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import Predictor, save_model
    from chatbot.nlu.train import train
    app = weather_app()
    trained = train(app.utterances, intents=app.intents, hp=HParams(epochs=3), progress=False)
    path = save_model(trained, tmp_path_factory.mktemp('w')/'m', app)
    return Predictor.load(path), path


@pytest.mark.parametrize('text, intent, anys', [
    ('Will it snow in Lake Tahoe tomorrow?', 'GetWeather', [('Place', None, 'Lake Tahoe')]),
    ('will it rain in the old town', 'GetWeather', [('Place', None, 'the old town')]),
    ('Forecast for my trip to Rio de Janeiro', 'GetWeather', [('Place', 'destination', 'Rio de Janeiro')]),
    ("WHAT'S THE WEATHER AT PARIS", 'GetWeather', []),
    ("please set an alarm for 7 o'clock", 'SetAlarm', []),
])
def test_patterns_lift_their_intent_and_fill_pattern_any(weather, text, intent, anys):
    p = weather[0].predict(text)
    assert p.top_intent == intent and p.score >= 0.99
    assert [(e.entity, e.role, e.text) for e in p.entities if e.kind == 'pattern.any'] == anys


def test_entity_slots_need_the_entity_and_take_the_pattern_role(weather):
    weather = weather[0]
    p = weather.predict('wake me when we reach Seoul')
    assert p.top_intent == 'SetAlarm' and p.score >= 0.99
    assert [(e.entity, e.role, e.text) for e in p.entities if e.kind == 'list'] == [('city', 'destination', 'Seoul')]
    # no city found: 'Atlantis' is no list value, so the pattern does not match and the model answers alone
    assert weather.patterns.match("what's the weather in Atlantis", []) is None
    assert weather.patterns.match("what's the weather in Paris", [('city', None, 22, 27)]).intent == 'GetWeather'
    assert weather.predict('set an alarm for seven').top_intent == 'SetAlarm'   # 'seven' is a number: the slot is met
    # words the template lacks, or a missing required word, are no match either
    for text in ('will it rain in', 'it will rain in Rome', 'set an alarm for lunch'):
        assert weather.patterns.match(text, [(e.entity, e.role, e.start, e.end) for e in weather.predict(text).entities]) is None


def test_pattern_any_in_luis_responses(weather):
    from chatbot.service.responses import to_luis_v2, to_luis_v3
    p = weather[0].predict('Forecast for my trip to Rio de Janeiro')
    v3 = to_luis_v3(p)['prediction']
    assert v3['topIntent'] == 'GetWeather' and v3['entities']['destination'] == ['Rio de Janeiro']   # LUIS keys by role
    inst = v3['entities']['$instance']['destination'][0]
    assert (inst['type'], inst['role'], inst['startIndex'], inst['length']) == ('Place', 'destination', 24, 14)
    assert [(e['entity'], e['type']) for e in to_luis_v2(p)['entities']] == [('rio de janeiro', 'Place')]


def test_old_artifacts_without_patterns_still_load(weather, tmp_path):
    "An artifact made before patterns (no `patterns` in its manifest) loads and answers from its model."
    import shutil
    from chatbot.nlu.artifacts import read_manifest, update_manifest
    from chatbot.nlu.predict import Predictor
    src = tmp_path/'m'
    shutil.copytree(weather[1], src)
    assert read_manifest(src)['patterns']['any'] == ['Place']
    update_manifest(src, patterns=None)
    old = Predictor.load(src)
    assert old.patterns is None
    assert not [e for e in old.predict('will it rain in the old town').entities if e.kind == 'pattern.any']


def test_pattern_any_explicit_list_from_a_luis_app_decides_the_match():
    """LUIS's explicit list (patternAnyEntities[].explicitList) is read, kept on export and used: a listed value
    fills the pattern.any slot even where a template with more literal words would also cover the utterance."""
    from chatbot.nlu.formats import app_from_luis, app_to_luis
    from chatbot.nlu.patterns import PatternMatcher
    d = {'luis_schema_version': '7.0.0', 'name': 'forms', 'culture': 'en-us',
         'intents': [{'name': 'None'}, {'name': 'FindForm'}, {'name': 'FindFormAndSigner'}],
         'entities': [], 'composites': [], 'closedLists': [], 'regex_entities': [], 'prebuiltEntities': [],
         'patternAnyEntities': [{'name': 'FormName', 'roles': [], 'explicitList': ['Tax Forms and Who Needs to Sign It']}],
         'patterns': [{'pattern': 'where is the form {FormName}', 'intent': 'FindForm'},
                      {'pattern': 'where is the form {FormName} and who needs to sign it', 'intent': 'FindFormAndSigner'}],
         'utterances': [{'text': 'where is the w-2 form', 'intent': 'FindForm', 'entities': []},
                        {'text': 'where is the expense form and who signs it', 'intent': 'FindFormAndSigner', 'entities': []},
                        {'text': 'hello', 'intent': 'None', 'entities': []}]}
    app, _ = app_from_luis(d)
    m = PatternMatcher.from_app(app)
    text = 'Where is the form Tax Forms and who needs to sign it?'
    r = m.match(text)
    assert (r.intent, [text[s:e] for _, _, s, e, _ in r.slots]) == ('FindForm', ['Tax Forms and who needs to sign it'])
    r = m.match('where is the form travel claim and who needs to sign it')
    assert (r.intent, r.slots[0][2:4]) == ('FindFormAndSigner', (18, 30))          # not listed: the longer template
    out, _ = app_to_luis(app)
    assert out['patternAnyEntities'][0]['explicitList'] == ['Tax Forms and Who Needs to Sign It']
    assert PatternMatcher.from_dict(m.to_dict()).match(text).intent == 'FindForm'   # the artifact's form keeps it
